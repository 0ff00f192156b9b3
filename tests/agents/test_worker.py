"""The Faust worker wirewatch builds: logging set up the way the settings ask."""

from __future__ import annotations

import asyncio
import logging

import faust
import pytest

from agents.worker import quiet_worker


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.mark.parametrize("loglevel, expected", [("warning", logging.WARNING),
                                                 ("error", logging.ERROR),
                                                 ("info", logging.INFO)])
def test_the_root_logger_gets_the_level_asked_for_not_debug(restore_logging, loglevel, expected):
    loop = asyncio.new_event_loop()
    try:
        app = faust.App("ww-logging-test", broker="kafka://127.0.0.1:1", loop=loop)
        worker = quiet_worker(app, loop=loop, loglevel=loglevel)
        worker._setup_logging()  # what execute_from_commandline does first
        assert logging.getLogger().level == expected
        assert not logging.getLogger("aiokafka.consumer.fetcher").isEnabledFor(logging.DEBUG)
    finally:
        loop.close()
