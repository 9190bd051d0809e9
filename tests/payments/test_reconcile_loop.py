"""`flask payments reconcile --every N`: a round that fails is logged and the loop goes on (a loop that died
silently would stop releasing held stock); without --every the failure is the command's; an item the
provider fails on is rolled back alone and counted, the others are settled."""
import logging

import pytest

from marketplace.payments import cli as payments_cli
from marketplace.payments import services
from tests.orders.helpers import two_shop_products
from tests.payments.helpers import card_checkout, statuses


class StopLoop(Exception):
    """Ends the --every loop from its sleep (outside the round's `try`, so it ends the command)."""


def _stop_after(monkeypatch, rounds: int, sleeps: list):
    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) >= rounds:
            raise StopLoop

    monkeypatch.setattr(payments_cli.time, "sleep", sleep)


def test_a_failing_round_is_logged_and_the_loop_goes_on(client, runner, fake_stripe, monkeypatch, caplog):
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, 1))
    fake_stripe.pay(checkout.stripe_session_id)  # paid, but no webhook came
    real, calls = services.reconcile_steps, []

    def flaky(now=None):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(now)

    monkeypatch.setattr(services, "reconcile_steps", flaky)
    sleeps: list = []
    _stop_after(monkeypatch, 2, sleeps)
    with caplog.at_level(logging.ERROR, logger="marketplace.payments.cli"):
        result = runner.invoke(args=["payments", "reconcile", "--every", "60"])
    assert isinstance(result.exception, StopLoop), result.output
    assert len(calls) == 2 and sleeps == [60, 60]
    assert "payments reconcile failed; retrying in 60 s" in caplog.text and "database went away" in caplog.text
    assert "paid=1" in result.output  # the second round settled what the first could not
    assert statuses(checkout) == ["paid"]


def test_without_every_the_failure_is_the_commands(runner, monkeypatch):
    def broken(now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "reconcile_steps", broken)
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)


def test_an_item_the_provider_fails_on_is_counted_and_the_others_settle(client, runner, fake_stripe):
    vase, scarf = two_shop_products()
    _r, _t, first = card_checkout(client, (vase.variants[0].id, 1))
    _r, _t, second = card_checkout(client, (scarf.variants[0].id, 1))
    fake_stripe.pay(first.stripe_session_id)
    fake_stripe.pay(second.stripe_session_id)
    fake_stripe.fail_next(f"GET /v1/checkout/sessions/{first.stripe_session_id}", 400)  # refused: not retried
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "paid=1" in result.output and "errors=1" in result.output
    assert statuses(first) == ["pending_payment"] and statuses(second) == ["paid"]
    again = runner.invoke(args=["payments", "reconcile"])
    assert "paid=1" in again.output and "errors=0" in again.output
    assert statuses(first) == ["paid"]


@pytest.mark.parametrize("every", ["9", "0", "-5", "soon"])
def test_every_below_ten_seconds_or_not_a_number_is_refused(runner, every):
    result = runner.invoke(args=["payments", "reconcile", "--every", every])
    assert result.exit_code == 2 and "--every" in result.output
