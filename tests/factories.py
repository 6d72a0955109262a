"""Small builders of catalog rows for store tests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Category, Product, Seller, User, Variant
from store.services import digital
from store.services.catalog import bump_catalog_version


async def make_user(session: AsyncSession, user_id: int, first_name: str = "Ann") -> User:
    """Add a shopper."""
    user = User(id=user_id, first_name=first_name)
    session.add(user)
    await session.flush()
    return user


async def make_seller(session: AsyncSession, name: str = "Corner Shop") -> Seller:
    """Add an approved seller."""
    seller = Seller(name=name, kind="retailer", status="approved", commission_bp=1000)
    session.add(seller)
    await session.flush()
    return seller


async def make_category(session: AsyncSession, name: str = "Clothing") -> Category:
    """Add a category."""
    category = Category(name=name, position=0)
    session.add(category)
    await session.flush()
    return category


async def make_product(
    session: AsyncSession,
    seller: Seller,
    category: Category,
    title: str,
    variants: list[tuple[str, int, int]],
    *,
    status: str = "active",
) -> Product:
    """Add a product with variants given as (label, price in minor units, stock)."""
    version = await bump_catalog_version(session)
    product = Product(seller_id=seller.id, category_id=category.id, title=title, description="",
                      status=status, catalog_version=version)
    session.add(product)
    await session.flush()
    for i, (label, price, stock) in enumerate(variants):
        sku = f"P{product.id}-{i}"
        session.add(Variant(product_id=product.id, seller_id=seller.id, sku=sku, label=label,
                            price=price, stock=stock, position=i))
    await session.flush()
    return product


async def make_digital(session: AsyncSession, seller: Seller, category: Category, title: str, price: int, *,
                       codes: list[str] | None = None, file: str | None = None, text: str | None = None,
                       stock: int = 100) -> Variant:
    """Add a digital product of one variant delivered as a pool of ``codes``, a document ``file`` (a file id)
    or a ``text``; returns the variant."""
    delivery = "code" if codes is not None else "file" if file is not None else "text"
    version = await bump_catalog_version(session)
    product = Product(seller_id=seller.id, category_id=category.id, title=title, description="", kind="digital",
                      status="active", catalog_version=version)
    session.add(product)
    await session.flush()
    variant = Variant(product_id=product.id, seller_id=seller.id, sku=f"D{product.id}", label="", price=price,
                      stock=0 if codes is not None else stock, position=0, delivery=delivery,
                      content=file if file is not None else text, content_type="document" if file else None)
    session.add(variant)
    await session.flush()
    if codes is not None:
        await digital.add_codes(session, variant.id, codes)
    return variant
