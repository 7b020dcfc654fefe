"""Durable orchestration: deterministic workflow code only; every side effect is an activity."""
