"""The order's workflow and its phases (see workflows.order.workflow)."""

from workflows.order.workflow import OrderWorkflow

__all__ = ["OrderWorkflow"]
