"""Each channel folder's front door (its `__init__`) keeps the names callers use, whatever submodules
the registry has imported since: a submodule must not shadow a function of the same name."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from integrations.channels import amazon, bol, pos, registry, shopify, webshop, woocommerce  # noqa: F401 (registry)


@pytest.mark.parametrize("package", [shopify, woocommerce, bol, amazon, pos, webshop], ids=lambda p: p.__name__)
def test_every_exported_name_is_what_the_mapping_or_spec_defines_not_a_submodule(package: ModuleType) -> None:
    for name in package.__all__:
        assert not inspect.ismodule(getattr(package, name)), f"{package}.{name} is shadowed by a submodule"
