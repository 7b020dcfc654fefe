"""The pure rules behind staff accounts (domain.accounts): what a password must be, how sign-in
failures lock a key and for how long, and which role a personal API token may carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accounts import (
    ACCOUNT_FAILURES,
    FIRST_LOCK,
    LONGEST_LOCK,
    PASSWORD_MAX,
    WINDOW,
    Throttle,
    after_failure,
    after_success,
    email_problem,
    lock_length,
    locked_for,
    may_mint,
    minutes_to_wait,
    normal_email,
    password_problems,
)
from domain.staff import Role

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EMAIL = "Anna.Berg@Shop.example"


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short", "at least 12 characters"),
        ("x" * (PASSWORD_MAX + 1), "at most 256 characters"),
        ("anna.berg@shop.example", "e-mail address"),
        ("ANNA.BERG@shop.example", "e-mail address"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
        ("password1234", "most common"),
        ("Correct Horse Battery Staple", "most common"),
    ],
)
def test_a_weak_password_is_refused_with_words_saying_why(password, words):
    problems = password_problems(password, EMAIL)
    assert problems and any(words in problem for problem in problems)


def test_the_local_part_of_the_address_is_refused_too():
    assert password_problems("marie-louise.van", "Marie-Louise.VAN@shop.example") == [
        "the password must not be your e-mail address or its name part"
    ]


def test_a_pass_phrase_will_do():
    assert password_problems("orange tram to the harbour", EMAIL) == []


@given(st.text(min_size=12, max_size=PASSWORD_MAX).filter(lambda text: len(set(text)) > 1))
def test_length_alone_is_never_held_against_a_varied_password_of_allowed_length(password):
    assert not any("characters long" in problem for problem in password_problems(password, EMAIL))


def test_addresses_are_compared_in_lower_case_and_must_look_like_one():
    assert normal_email("  Anna.Berg@Shop.Example ") == "anna.berg@shop.example"
    assert email_problem("anna") is not None
    assert email_problem("anna@localhost") is not None
    assert email_problem("an na@shop.example") is not None
    assert email_problem("anna@shop.example") is None


def _fail(throttle: Throttle, times: int, at: datetime, limit: int = ACCOUNT_FAILURES) -> Throttle:
    for _ in range(times):
        throttle = after_failure(throttle, at, limit)
    return throttle


def test_the_fifth_failure_in_the_window_locks_for_a_minute_and_the_lock_lifts():
    four = _fail(Throttle(), 4, START)
    assert locked_for(four, START) is None
    locked = after_failure(four, START + timedelta(minutes=3), ACCOUNT_FAILURES)
    assert locked_for(locked, START + timedelta(minutes=3)) == FIRST_LOCK
    assert locked_for(locked, START + timedelta(minutes=4)) is None


def test_failures_spread_wider_than_the_window_never_lock():
    # A failure every quarter window and a second: the window has restarted before a fifth.
    throttle = Throttle()
    for n in range(20):
        throttle = after_failure(throttle, START + n * (WINDOW / 4 + timedelta(seconds=1)), ACCOUNT_FAILURES)
    assert throttle.lockouts == 0 and throttle.locked_until is None


def test_each_further_lockout_doubles_up_to_an_hour():
    assert [lock_length(n) for n in range(1, 9)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    throttle, now = Throttle(), START
    for expected in (1, 2, 4):
        throttle = _fail(throttle, ACCOUNT_FAILURES, now)
        wait = locked_for(throttle, now)
        assert wait == timedelta(minutes=expected)
        now += wait


def test_a_success_clears_the_account_and_a_quiet_day_forgets_the_lockouts():
    throttle = _fail(Throttle(), ACCOUNT_FAILURES * 3, START)
    assert throttle.lockouts == 3
    assert after_success() == Throttle()
    later = START + timedelta(days=2)
    assert locked_for(_fail(throttle, ACCOUNT_FAILURES, later), later) == FIRST_LOCK


@given(
    st.lists(st.integers(min_value=0, max_value=4 * 3600), min_size=1, max_size=60),
    st.integers(min_value=2, max_value=20),
)
def test_never_locked_for_more_than_an_hour_after_the_last_failure(gaps, limit):
    throttle, now = Throttle(), START
    for gap in gaps:
        now += timedelta(seconds=gap)
        if locked_for(throttle, now) is not None:
            continue  # a locked key is refused before a password is checked: no failure counted
        throttle = after_failure(throttle, now, limit)
        wait = locked_for(throttle, now)
        assert wait is None or timedelta(0) < wait <= LONGEST_LOCK
    assert locked_for(throttle, now + LONGEST_LOCK) is None


@given(st.integers(min_value=1, max_value=10_000))
def test_lock_lengths_never_shrink_and_stay_within_bounds(lockouts):
    assert FIRST_LOCK <= lock_length(lockouts) <= lock_length(lockouts + 1) <= LONGEST_LOCK


@given(st.integers(min_value=0, max_value=10_000))
def test_the_wait_people_are_told_is_whole_minutes_rounded_up(seconds):
    minutes = minutes_to_wait(timedelta(seconds=seconds))
    assert minutes >= 1 and minutes * 60 >= seconds and (minutes - 1) * 60 < max(seconds, 1)


@pytest.mark.parametrize("person", list(Role))
@pytest.mark.parametrize("token", list(Role))
def test_a_token_never_carries_a_role_above_its_owner(person, token):
    assert may_mint(person, token) == (person is Role.ADMIN or person is token)
