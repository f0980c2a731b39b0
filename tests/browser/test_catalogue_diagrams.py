"""Every bundle of the catalogue (processes/) draws its own diagram on its version page: the
layout the file carries, nothing missing, no import warning (docs/catalogue.md)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bundles.compiler import FormLibrary
from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.conftest import FORMS, PROCESSES

from .conftest import SCREENSHOTS, Pages

BUNDLES = sorted(p.name for p in PROCESSES.iterdir() if (p / "bundle.json").is_file())


@pytest.mark.parametrize("folder", BUNDLES)
def test_a_catalogue_bundle_draws_its_own_diagram(
    pages: Pages, staff: dict[str, Any], live_services: Services, folder: str
) -> None:
    assert FormLibrary(FORMS).root is not None
    deployed = publishing.deploy(live_services, from_path(PROCESSES / folder), "designer")
    page = pages.new("designer")
    pages.goto(page, f"/designer/bundles/{deployed['key']}/{deployed['version']}")
    diagram = pages.wait_for_diagram(page, "#version-diagram")
    assert diagram.get_attribute("data-diagram-layout") != "auto"  # the file's own layout
    assert diagram.get_attribute("data-diagram-missing") == "0"
    for element in deployed["human_tasks"]:
        drawn = page.locator(f'#version-diagram g.djs-element[data-element-id="{element}"]')
        assert drawn.count() == 1, element
    pages.shot(page, f"catalogue-{folder}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the diagram alone, to read it at a glance
    diagram.screenshot(path=str(SCREENSHOTS / f"catalogue-{folder}-diagram.png"))
