"""Errors the store services raise when a rule refuses a request.

Each carries a stable :class:`ErrorCode` and the facts a sentence about it
needs (``error.data``); the sentences are written at the edge, where they can
be translated (``handlers/messages.py``). The class says what kind of refusal
it is, which the HTTP API turns into a status. No error ever means that
something was half-done: the caller's transaction rolls back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Why a request was refused."""

    # Buttons, steps and pages
    BUTTON_EXPIRED = "button_expired"
    STEP_OVER = "step_over"
    ADD_PRODUCT_STEP_OVER = "add_product_step_over"
    SELL_STEP_OVER = "sell_step_over"
    ORDER_STEP_OVER = "order_step_over"
    EDIT_STEP_OVER = "edit_step_over"
    SEARCH_RESULTS_CHANGED = "search_results_changed"
    CATEGORY_PAGE_GONE = "category_page_gone"
    ORDERS_PAGE_GONE = "orders_page_gone"
    # Catalog and cart
    PRODUCT_GONE = "product_gone"
    OPTION_GONE = "option_gone"
    OPTION_SOLD_OUT = "option_sold_out"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    STOCK_SHORT_WITH_CART = "stock_short_with_cart"
    STOCK_SHORT = "stock_short"
    QUANTITY_CAP = "quantity_cap"
    CART_FULL = "cart_full"
    CART_LINE_GONE = "cart_line_gone"
    QUANTITY_MINIMUM = "quantity_minimum"
    # Contact details
    CONTACT_EMPTY = "contact_empty"
    PHONE_UNREADABLE = "phone_unreadable"
    PHONE_INVALID = "phone_invalid"
    NAME_MISSING = "name_missing"
    NAME_TOO_LONG = "name_too_long"
    ADDRESS_TOO_SHORT = "address_too_short"
    ADDRESS_TOO_LONG = "address_too_long"
    NOT_YOUR_CONTACT = "not_your_contact"
    # Checkout and payment
    CART_EMPTY = "cart_empty"
    NOTHING_TO_ORDER = "nothing_to_order"
    CART_ITEM_UNAVAILABLE = "cart_item_unavailable"
    SHIPPING_NOT_OFFERED = "shipping_not_offered"
    PAYMENT_NOT_OFFERED = "payment_not_offered"
    STARS_LIMIT = "stars_limit"
    DIGITAL_NOT_SOLD = "digital_not_sold"
    PHYSICAL_NOT_SOLD = "physical_not_sold"
    PRICES_CHANGED = "prices_changed"
    CONFIRMATION_OUTDATED = "confirmation_outdated"
    CART_CHANGED = "cart_changed"
    ITEM_CHANGED = "item_changed"
    SAVED_DETAILS_GONE = "saved_details_gone"
    OUT_OF_STOCK = "out_of_stock"
    NOT_YOUR_ORDER = "not_your_order"
    NOT_AWAITING_PAYMENT = "not_awaiting_payment"
    CANCEL_ONLY_UNPAID = "cancel_only_unpaid"
    INVOICE_INVALID = "invoice_invalid"
    INVOICE_EXPIRED = "invoice_expired"
    INVOICE_AMOUNT_CHANGED = "invoice_amount_changed"
    PAYMENT_UNMATCHED = "payment_unmatched"
    NOTHING_TO_SEND_AGAIN = "nothing_to_send_again"
    # Orders and fulfilment
    ORDER_UNKNOWN = "order_unknown"
    ONLY_THE_SELLER = "only_the_seller"
    ONLY_THE_SELLER_SEES = "only_the_seller_sees"
    TRANSITION_REFUSED = "transition_refused"
    CARRIER_INVALID = "carrier_invalid"
    TRACKING_INVALID = "tracking_invalid"
    TRACKING_MISSING = "tracking_missing"
    REASON_LENGTH = "reason_length"
    # A seller's catalog
    TITLE_LENGTH = "title_length"
    DESCRIPTION_TOO_LONG = "description_too_long"
    TEXT_TOO_LONG = "text_too_long"
    STOCK_INVALID = "stock_invalid"
    PRICE_NOT_A_NUMBER = "price_not_a_number"
    PRICE_NOT_POSITIVE = "price_not_positive"
    PRICE_DECIMALS = "price_decimals"
    PRICE_TOO_HIGH = "price_too_high"
    PRICE_ZERO = "price_zero"
    PRICE_MISSING = "price_missing"
    STOCK_MISSING = "stock_missing"
    SKU_INVALID = "sku_invalid"
    PHOTO_URL_INVALID = "photo_url_invalid"
    COMMISSION_UNREADABLE = "commission_unreadable"
    COMMISSION_OUT_OF_RANGE = "commission_out_of_range"
    VARIANT_FORMAT = "variant_format"
    VARIANT_COUNT = "variant_count"
    VARIANT_LABELS_NEEDED = "variant_labels_needed"
    VARIANT_NEEDED = "variant_needed"
    PRODUCT_NOT_YOURS = "product_not_yours"
    OPTION_NOT_IN_PRODUCT = "option_not_in_product"
    CATEGORY_GONE = "category_gone"
    PRODUCT_STATE_UNKNOWN = "product_state_unknown"
    KIND_UNKNOWN = "kind_unknown"
    DELIVERY_UNKNOWN = "delivery_unknown"
    DELIVERY_NEEDED = "delivery_needed"
    DELIVERY_OF_PHYSICAL = "delivery_of_physical"
    CONTENT_NEEDED = "content_needed"
    CONTENT_TOO_LONG = "content_too_long"
    FILE_URL_INVALID = "file_url_invalid"
    FILE_TOO_BIG = "file_too_big"
    CODES_NONE = "codes_none"
    CODES_TOO_MANY = "codes_too_many"
    CODE_TOO_LONG = "code_too_long"
    CODE_UNPRINTABLE = "code_unprintable"
    NOT_A_CODE_POOL = "not_a_code_pool"
    STOCK_IS_CODES = "stock_is_codes"
    FILE_NEEDED = "file_needed"
    DELIVERY_MISMATCH = "delivery_mismatch"
    CODE_VARIANT_FORMAT = "code_variant_format"
    CODES_FILE_TOO_BIG = "codes_file_too_big"
    CODES_FILE_NOT_TEXT = "codes_file_not_text"
    CSV_EMPTY = "csv_empty"
    CSV_HEADER_INVALID = "csv_header_invalid"
    # A catalog file's rows
    ROW_EXTRA_FIELDS = "row_extra_fields"
    ROW_UNKNOWN_COLUMNS = "row_unknown_columns"
    FIELD_UNREADABLE = "field_unreadable"
    FIELD_DIFFERS = "field_differs"
    SKU_REPEATED = "sku_repeated"
    SKU_OF_REMOVED_PRODUCT = "sku_of_removed_product"
    PRODUCT_VARIANTS_FULL = "product_variants_full"
    LABEL_NEEDED = "label_needed"
    SIBLING_UNLABELLED = "sibling_unlabelled"
    LABEL_TAKEN = "label_taken"
    KIND_CHANGE = "kind_change"
    DELIVERY_CHANGE = "delivery_change"
    CONTENT_MISSING = "content_missing"
    CONTENT_OF_CODES = "content_of_codes"
    CODE_STOCK_GIVEN = "code_stock_given"
    FILE_URL_TYPE = "file_url_type"
    SKU_UNKNOWN = "sku_unknown"
    # Sellers, creators, operators
    SHOP_NAME_LENGTH = "shop_name_length"
    ALREADY_A_SELLER = "already_a_seller"
    NOT_A_SELLER = "not_a_seller"
    SHOP_UNKNOWN = "shop_unknown"
    SELLER_ID_UNKNOWN = "seller_id_unknown"
    SELLER_NOT_APPROVED = "seller_not_approved"
    WEBHOOK_URL_INVALID = "webhook_url_invalid"
    WEBHOOK_PRIVATE_ADDRESS = "webhook_private_address"
    ONLY_OPERATORS_DECIDE = "only_operators_decide"
    ONLY_OPERATORS = "only_operators"
    APPLICATION_GONE = "application_gone"
    APPLICATION_DECIDED = "application_decided"
    SHARE_LINKS_FOR_CREATORS = "share_links_for_creators"
    SHOWCASE_FOR_CREATORS = "showcase_for_creators"
    CREATOR_UNKNOWN = "creator_unknown"
    SHOWCASE_GONE = "showcase_gone"
    SHOWCASE_FULL = "showcase_full"
    PAYOUT_CHANGED = "payout_changed"
    # Discount codes
    COUPON_CODE_FORMAT = "coupon_code_format"
    COUPON_CODE_TAKEN = "coupon_code_taken"
    COUPON_DISCOUNT_NEEDED = "coupon_discount_needed"
    COUPON_PERCENT_RANGE = "coupon_percent_range"
    COUPON_ENDS_BEFORE_START = "coupon_ends_before_start"
    COUPON_USES_RANGE = "coupon_uses_range"
    COUPON_PRODUCTS_TOO_MANY = "coupon_products_too_many"
    COUPON_GONE = "coupon_gone"
    COUPON_UNKNOWN = "coupon_unknown"
    COUPON_NOT_STARTED = "coupon_not_started"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_USED_UP = "coupon_used_up"
    COUPON_ALREADY_USED = "coupon_already_used"
    COUPON_NOT_FOR_THESE = "coupon_not_for_these"
    COUPON_MIN_SPEND = "coupon_min_spend"
    COUPON_OWN_CODE = "coupon_own_code"
    COUPON_STEP_OVER = "coupon_step_over"
    COUPON_DATE_FORMAT = "coupon_date_format"
    COUPON_PRODUCT_NUMBERS = "coupon_product_numbers"
    CREATOR_CODE_FOR_CREATORS = "creator_code_for_creators"
    # Flash deals
    DEAL_NOT_LOWER = "deal_not_lower"
    DEAL_TOO_LONG = "deal_too_long"
    DEAL_ENDS_BEFORE_START = "deal_ends_before_start"
    DEAL_STARTS_IN_PAST = "deal_starts_in_past"
    DEAL_STARTS_TOO_LATE = "deal_starts_too_late"
    DEAL_OVERLAPS = "deal_overlaps"
    DEAL_CAP_INVALID = "deal_cap_invalid"
    DEAL_HOURS_INVALID = "deal_hours_invalid"
    DEAL_TIME_UNREADABLE = "deal_time_unreadable"
    DEAL_UNKNOWN = "deal_unknown"
    DEAL_NOT_UPCOMING = "deal_not_upcoming"
    DEAL_REMINDER_SET = "deal_reminder_set"
    DEAL_STEP_OVER = "deal_step_over"
    # Shopper alerts
    OPTION_IN_STOCK = "option_in_stock"
    RESTOCK_ALERTS_OFF = "restock_alerts_off"
    # Reviews
    REVIEW_LINE_UNKNOWN = "review_line_unknown"
    REVIEW_NOT_DELIVERED = "review_not_delivered"
    REVIEW_EXISTS = "review_exists"
    RATING_INVALID = "rating_invalid"
    REVIEW_TEXT_LENGTH = "review_text_length"
    REVIEW_PHOTO_INVALID = "review_photo_invalid"
    REVIEW_EDITED = "review_edited"
    REVIEW_UNKNOWN = "review_unknown"
    REVIEW_REPLIED = "review_replied"
    REVIEW_REPLY_LENGTH = "review_reply_length"
    REVIEW_REPLY_NOT_YOURS = "review_reply_not_yours"
    REVIEW_HIDE_REASON_LENGTH = "review_hide_reason_length"
    REVIEW_STEP_OVER = "review_step_over"
    REVIEWS_PAGE_GONE = "reviews_page_gone"


    # Returns
    RETURN_UNKNOWN = "return_unknown"
    RETURN_NOT_DELIVERED = "return_not_delivered"
    RETURN_WINDOW_OVER = "return_window_over"
    RETURN_NOTHING_LEFT = "return_nothing_left"
    RETURN_NOTHING_CHOSEN = "return_nothing_chosen"
    RETURN_UNITS_TAKEN = "return_units_taken"
    RETURN_NOTE_TOO_LONG = "return_note_too_long"
    RETURN_ACTION_REFUSED = "return_action_refused"
    RETURN_INSTRUCTIONS_LENGTH = "return_instructions_length"
    RETURN_STEP_OVER = "return_step_over"
    ORDER_HAS_OPEN_RETURN = "order_has_open_return"
    REVIEW_ANSWERED = "review_answered"


class ShopError(Exception):
    """A request the rules refuse: ``code`` says why, ``data`` holds the facts to say it with."""

    def __init__(self, code: ErrorCode, /, **data: Any) -> None:
        super().__init__(code, data)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return f"{self.code}{f' {self.data}' if self.data else ''}"


class NotFound(ShopError):
    """The thing named does not exist, or does not belong to the person asking."""


class Expired(ShopError):
    """The action refers to a state that has moved on (an old button, a closed checkout)."""


class Changed(Expired):
    """What the person confirmed has changed since (prices, the cart): nothing was done."""


class OutOfStock(ShopError):
    """Some lines ask for more than is in stock; ``short`` maps variant id to units available."""

    def __init__(self, code: ErrorCode, short: dict[int, int], **data: Any) -> None:
        super().__init__(code, **data)
        self.short = short


class InvalidInput(ShopError):
    """Typed input that does not pass validation."""


class NotAllowed(ShopError):
    """The person asking may not do this."""
