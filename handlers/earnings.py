"""Earnings in the chat: /earnings for creators, /creator_sales for sellers."""

from __future__ import annotations

from html import escape

from telegram import Update

from handlers.common import lang, reply
from handlers.context import ShopContext
from handlers.i18n import N_, _, ngettext
from handlers.render import ITEM_TITLE_MAX, money, short
from store.services.creators import creator_of_user
from store.services.earnings import (
    CodeStats,
    CreatorSales,
    Dashboard,
    LinkStats,
    PeriodStats,
    creator_dashboard,
    seller_creator_sales,
)
from store.services.sellers import seller_of_user
from store.states import Approval

# A Telegram message holds at most 4096 characters: long lists are cut.
LINKS_SHOWN = 10
SELLER_ROWS_SHOWN = 15

NOT_A_CREATOR = N_("📈 /earnings is for creators. To share products and earn a commission on what you sell, "
                   "send /creator.")
CREATOR_PENDING = N_("📈 Your creator application is still with an operator; your earnings will show here once "
                     "approved.")
NOT_A_SELLER = N_("📊 /creator_sales is for sellers. To open a shop, send /sell.")
NO_CREATOR_SALES = N_("📊 <b>Sales through creators</b>\nNothing yet. When a shopper buys your products through a "
                      "creator's link, the sales and the commission owed show here.")


def _clicks(count: int) -> str:
    # Translators: a figure of the earnings, shown among others ("3 clicks · 1 order · 2 items").
    return ngettext("{count} click", "{count} clicks", count).format(count=count)


def _orders(count: int) -> str:
    # Translators: a figure of the earnings, shown among others ("3 clicks · 1 order · 2 items").
    return ngettext("{count} order", "{count} orders", count).format(count=count)


def _items(count: int) -> str:
    # Translators: a figure of the earnings, shown among others ("3 clicks · 1 order · 2 items").
    return ngettext("{count} item", "{count} items", count).format(count=count)


def _period_title(period: PeriodStats) -> str:
    if period.days is None:
        return _("All time")
    return ngettext("Last {days} day", "Last {days} days", period.days).format(days=period.days)


def _period(period: PeriodStats, currency: str, language: str | None) -> str:
    # Translators: a period's figures: {clicks}, {orders} and {items} are counts ("3 clicks"), {sales} money.
    figures = _("👆 {clicks} · 🧾 {orders} · 📦 {items} · sales {sales}").format(
        clicks=_clicks(period.clicks), orders=_orders(period.orders), items=_items(period.items),
        sales=money(period.sales, currency, language))
    # Translators: a creator's commission of a period, by state: amounts of money.
    commission = _("💰 pending {pending} · approved {approved} · reversed {reversed}").format(
        pending=money(period.pending, currency, language), approved=money(period.approved, currency, language),
        reversed=money(period.reversed, currency, language))
    return f"<b>{_period_title(period)}</b>\n{figures}\n{commission}"


def _link(link: LinkStats, currency: str, language: str | None) -> str:
    # Translators: {id} is a product's number, shown when its title is unknown.
    title = link.title or _("Product {id}").format(id=link.product_id)
    name = _("🛍 Your showcase") if link.is_showcase else escape(short(title, ITEM_TITLE_MAX))
    # Translators: one of a creator's links: {name} the product (or "🛍 Your showcase"), {clicks} and {orders}
    # counts ("3 clicks"), {sales} and {commission} money.
    return _("• {name} — {clicks}, {orders}, {sales} sales, {commission}").format(
        name=name, clicks=_clicks(link.clicks), orders=_orders(link.orders),
        sales=money(link.sales, currency, language), commission=money(link.commission, currency, language))


def _code(code: CodeStats, currency: str, language: str | None) -> str:
    # Translators: one of a creator's discount codes: {code} the code, {orders} a count ("3 orders"), {sales} and
    # {commission} money.
    line = _("• {code} — {orders}, {sales} sales, {commission}").format(
        code=escape(code.code), orders=_orders(code.orders), sales=money(code.sales, currency, language),
        commission=money(code.commission, currency, language))
    # Translators: after a discount code the creator replaced with another.
    return line if code.active else f"{line} " + _("(replaced)")


def earnings_text(dashboard: Dashboard, currency: str, language: str | None) -> str:
    """The /earnings message: periods, top products and the per-link breakdown."""
    # Translators: {code} is the creator's code.
    parts = [_("📈 <b>Your earnings</b> · code <code>{code}</code>").format(code=escape(dashboard.code))]
    parts += [_period(period, currency, language) for period in dashboard.periods]
    if dashboard.top_products:
        lines = [_("🏆 <b>Top products</b>")]
        # Translators: a creator's best-selling product: {number} its rank, {items} a count ("2 items"),
        # {sales} and {commission} money.
        lines += [_("{number}. {title} — {items}, {sales} sales, {commission} commission").format(
                      number=number, title=escape(short(product.title, ITEM_TITLE_MAX)), items=_items(product.items),
                      sales=money(product.sales, currency, language),
                      commission=money(product.commission, currency, language))
                  for number, product in enumerate(dashboard.top_products, 1)]
        parts.append("\n".join(lines))
    lines = [_("🔗 <b>Your links</b> (clicks, orders, sales, commission)")]
    lines += [_link(link, currency, language) for link in dashboard.links[:LINKS_SHOWN]]
    if len(dashboard.links) > LINKS_SHOWN:
        more = len(dashboard.links) - LINKS_SHOWN
        lines.append(ngettext("… and {count} more link", "… and {count} more links", more).format(count=more))
    parts.append("\n".join(lines))
    if dashboard.codes:
        lines = [_("🎟 <b>Your discount codes</b> (orders, sales, commission)")]
        lines += [_code(code, currency, language) for code in dashboard.codes[:LINKS_SHOWN]]
        parts.append("\n".join(lines))
    parts.append(_("<i>Commission is pending until the order is delivered and the return window has passed; "
                   "then it is approved (the figure includes what was paid out already). Cancelled or refunded "
                   "orders reverse it.</i>"))
    return "\n\n".join(parts)


def creator_sales_text(shop_name: str, rows: list[CreatorSales], language: str | None) -> str:
    """The /creator_sales message: per product, what creators sold and the commission owed."""
    if not rows:
        return _(NO_CREATOR_SALES)
    # Translators: {shop} is the seller's shop name.
    lines = [_("📊 <b>Sales through creators</b> · {shop}").format(shop=escape(shop_name)), ""]
    # Translators: a product sold through creators: {number} its rank, {orders} and {items} counts ("3 orders",
    # "4 items"), {sales} and {commission} money.
    lines += [_("{number}. <b>{title}</b> — {orders}, {items}, {sales} sales, {commission} commission owed").format(
                  number=number, title=escape(short(row.title, ITEM_TITLE_MAX)), orders=_orders(row.orders),
                  items=_items(row.items), sales=money(row.sales, row.currency, language),
                  commission=money(row.commission, row.currency, language))
              for number, row in enumerate(rows[:SELLER_ROWS_SHOWN], 1)]
    if len(rows) > SELLER_ROWS_SHOWN:
        more = len(rows) - SELLER_ROWS_SHOWN
        lines.append(ngettext("… and {count} more product", "… and {count} more products", more).format(count=more))
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        sales, commission = totals.get(row.currency, (0, 0))
        totals[row.currency] = (sales + row.sales, commission + row.commission)
    lines.append("")
    # Translators: {sales} and {commission} are amounts of money (one line per currency).
    lines += [_("<b>Total</b>: {sales} sales, {commission} commission owed").format(
                  sales=money(sales, currency, language), commission=money(commission, currency, language))
              for currency, (sales, commission) in sorted(totals.items())]
    lines.append(_("<i>Reversed commission (cancelled or refunded orders) is not counted.</i>"))
    return "\n".join(lines)


async def on_earnings(update: Update, context: ShopContext) -> None:
    """/earnings: a creator's clicks, sales and commission; others are pointed to /creator."""
    shop = context.shop
    async with shop.db.read() as session:
        creator = await creator_of_user(session, update.effective_user.id, approved_only=False)
        approved = creator is not None and creator.status == Approval.APPROVED
        dashboard = (await creator_dashboard(session, creator.id, shop.clock(), currency=shop.options.currency)
                     if approved else None)
    if dashboard is None:
        pending = creator is not None and creator.status == Approval.PENDING
        await reply(update, _(CREATOR_PENDING) if pending else _(NOT_A_CREATOR))
        return
    await reply(update, earnings_text(dashboard, shop.options.currency, lang(update)))


async def on_creator_sales(update: Update, context: ShopContext) -> None:
    """/creator_sales: an approved seller's products sold through creators; others get a pointer to /sell."""
    async with context.shop.db.read() as session:
        seller = await seller_of_user(session, update.effective_user.id)
        rows = await seller_creator_sales(session, seller.id) if seller is not None else []
    if seller is None:
        await reply(update, _(NOT_A_SELLER))
        return
    await reply(update, creator_sales_text(seller.name, rows, lang(update)))
