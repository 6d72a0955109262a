"""Small builders of catalog rows for store tests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Category, Product, Seller, User, Variant
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
