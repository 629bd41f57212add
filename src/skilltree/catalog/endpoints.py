"""Catalog API: categories and published trees."""

from fastapi import APIRouter

router = APIRouter(tags=["catalog"])
