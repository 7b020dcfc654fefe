"""The ApplicationError types activities raise and workflows, the API and ops branch on (never a
message's text). A StrEnum, so the type travels through Temporal as the plain string it always was."""

from __future__ import annotations

from enum import StrEnum


class ErrorType(StrEnum):
    PAYMENT_DECLINED = "PaymentDeclined"
    """The provider declined the authorization: the order is cancelled, nothing reserved."""
    PAYMENT_REJECTED = "PaymentRejected"
    """The provider refused the request itself (not the customer's money): retrying cannot help."""
    UNKNOWN_PAYMENT = "UnknownPayment"
    PAYMENT_GATEWAY_UNAVAILABLE = "PaymentGatewayUnavailable"
    """Retryable: the gateway refused our key, rate limited us or was down; retried with backoff
    (after its Retry-After when it gave one)."""
    CONFIRMATION_REFUSED = "ConfirmationRefused"
    """A staff confirmation of a shipment step refused; its details hold the RefusalKind."""
    UNKNOWN_SHIPMENT = "UnknownShipment"
    STORAGE_REFUSED = "StorageRefused"
    """Non-retryable: the database can never take the write (a value that does not fit its column);
    the message names the column, never the value."""
    UNKNOWN_STORE = "UnknownStore"
    """A counter sale naming a store we do not know, a location that is not a store, or more units than
    a counter sells: the order waits on hold."""
    RETURN_REFUSED = "ReturnRefused"
    """A refused return; its first detail is the domain.returns.ReturnRefusalKind."""
    RETURN_STEP_REFUSED = "ReturnStepRefused"
    """A return's step refused (out of order, does not add up); its first detail is the
    domain.return_lifecycle.ReturnStepRefusalKind."""
    ORDER_EDIT_REFUSED = "OrderEditRefused"
    """A refused order edit; its first detail is the domain.order_edits.EditRefusalKind, or one of
    contracts.order_edits' payment refusals (`needs_payment`, `payment_declined`, `payment_unavailable`)."""
    CHANNEL_NOT_CONFIGURED = "ChannelNotConfigured"
    CHANNEL_RATE_LIMITED = "ChannelRateLimited"
    CHANNEL_UNAVAILABLE = "ChannelUnavailable"
    CHANNEL_AUTH_FAILED = "ChannelAuthFailed"
    CHANNEL_REJECTED = "ChannelRejected"
    CHANNEL_ERROR = "ChannelError"
    CARRIER_REFUSED = "CarrierRefused"
    """Non-retryable: the carrier refused the label (its words in the message): a person decides."""
    CARRIER_UNAVAILABLE = "CarrierUnavailable"
    """Retried: no label this time (an outage, a 429 with its wait, refused keys)."""
    CREDIT_REFUSED = "CreditRefused"
    """Non-retryable: the store credit ledger cannot take the entry (another currency, no customer
    address, no such order); its first detail is the domain.store_credit.CreditRefusalKind."""
    BOOKS_REFUSED = "BooksRefused"
    """Non-retryable: the accounting system refused the token, or a document (its words in the
    message), or has no tax rate or ledger account for it: a person fixes the settings."""
    GOODWILL_REFUSED = "GoodwillRefused"
    """Non-retryable: goodwill refused (nothing shipped, more than is left); its first detail is the
    domain.goodwill.GoodwillRefusalKind."""
