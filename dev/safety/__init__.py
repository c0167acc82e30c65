"""Proof of safety: an independent checker, a fault plan, a crash harness and the lifecycle scenario."""
