"""Accounts API: register, login, logout, me."""

from fastapi import APIRouter

router = APIRouter(tags=["accounts"])
