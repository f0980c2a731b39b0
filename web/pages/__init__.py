"""The pages of the web app, one blueprint per kind of user:

- `auth`: sign in and out;
- `designer`: bundles, uploads, versions and their differences;
- `clerk`: worklists, tasks, starting cases;
- `cases`: a case's page (diagram, timeline, clock, certificates);
- `auditor`: case search, the step slider, replay verification, export;
- `public`: no sign-in: 办事指南, progress lookup, certificate verification;
- `admin`: 用户与分组 (users, roles, groups, passwords, tokens, unblocking), administrators only;
- `assets`: the vendored front-end libraries (bpmn-js), served by the app itself.
"""

from __future__ import annotations

from flask import Flask

from . import admin, assets, auditor, auth, cases, clerk, designer, public


def register(app: Flask) -> None:
    for module in (auth, public, designer, clerk, cases, auditor, admin, assets):
        app.register_blueprint(module.bp)
