"""Logs carry ids only: a failed statement shows no parameters, and the log filter hides secrets and
personal data in every form they are printed in (the whole flow at DEBUG: tests/test_entrypoint.py)."""

from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot.redact import HIDDEN, Redactor
from store.models import User


async def test_a_failed_statement_does_not_show_its_parameters(db):
    async with db.transaction() as session:
        session.add(User(id=1, first_name="Ann"))
    with pytest.raises(IntegrityError) as failed:
        async with db.transaction() as session:
            await session.execute(insert(User).values(id=1, first_name="Zebulon", phone="+12025550143",
                                                      last_address="42 Quiet Lane"))
    message = str(failed.value)
    assert "users" in message.lower()
    for personal in ("Zebulon", "12025550143", "42 Quiet Lane"):
        assert personal not in message


@pytest.mark.parametrize("line", [
    "parameters `{'chat_id': 7, 'text': \"Ann's place, 42 Quiet Lane\"}`",  # a repr with a quote inside
    '{"message":{"contact":{"phone_number":"+12025550143","first_name":"Zebulon"}}}',  # JSON
    "Contact(first_name='Zebulon', phone_number='+12025550143', user_id=7)",  # PTB's repr
    "call me on +1 (202) 555-0143 please",  # a phone in free text
    "GET http://127.0.0.1/bot123456:TEST-token-for-the-fake-bot-api/getMe",  # a bot token by shape
    "key csk_9qXh3v0aZk2PqL7mN4sT8wYb1cD5eF6g and whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",  # our sellers' secrets
    "DETAIL:  Failing row contains (7, Zebulon, 42 Quiet Lane, null).",  # PostgreSQL's refused row
    "DETAIL:  Key (contact_name, address)=(Zebulon, 42 Quiet Lane) already exists.",  # and refused key
])
def test_the_log_filter_hides_personal_data_and_secrets(line):
    cleaned = Redactor().clean(line)
    assert HIDDEN in cleaned
    for personal in ("Zebulon", "Quiet Lane", "202", "TEST-token", "csk_9q", "QUJDREVG"):
        assert personal not in cleaned


def test_configured_secrets_are_hidden_in_messages_arguments_and_tracebacks():
    redactor = Redactor(["provider-token-value-123"])
    record = logging.LogRecord("chatshop", logging.ERROR, __file__, 1, "paid with %s", ("provider-token-value-123",),
                               None)
    try:
        raise RuntimeError("refused: provider-token-value-123")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert redactor.filter(record)
    assert record.getMessage() == f"paid with {HIDDEN}"
    assert "provider-token-value-123" not in record.exc_text and HIDDEN in record.exc_text


def test_ids_and_amounts_stay_readable():
    line = "update 5 user 2001 type message handler on_message outcome ok 3.1ms; order 12 total 3999"
    assert Redactor().clean(line) == line


def test_a_value_that_never_closes_is_read_in_one_pass():
    """A forged button "p:text='\\\\\\..." once made the filter try every way of splitting the backslashes
    (minutes at 20 of them, and the bot froze with it): now it is one pass, whatever the length."""
    line = "refused callback data from user 7: " + repr("p:text='" + "\\" * 56)
    assert Redactor().clean(line) == line
    assert Redactor().clean("x" * 50_000 + "text='" + "\\" * 10_000).startswith("x")
