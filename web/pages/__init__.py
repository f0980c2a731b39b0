"""The pages of the web app, one blueprint per kind of user:

- `auth`: sign in and out;
- `designer`: bundles, uploads, versions and their differences;
- `clerk`: worklists, tasks, starting cases;
- `cases`: a case's page (diagram, timeline, clock, certificates);
- `auditor`: case search, the step slider, replay verification, export;
- `public`: no sign-in: 办事指南, progress lookup, certificate verification;
- `admin`: 用户与分组 (users, roles, groups, passwords, tokens, unblocking), administrators only;
- `incidents`: 出错办件, seen by administrators and designers, handled by administrators;
- `assets`: the vendored front-end libraries (bpmn-js), served by the app itself.
"""

from __future__ import annotations

from flask import Flask

from . import admin, assets, auditor, auth, cases, clerk, designer, incidents, public


def register(app: Flask) -> None:
    for module in (auth, public, designer, clerk, cases, auditor, admin, incidents, assets):
        app.register_blueprint(module.bp)
    from . import designer_forms  # the form editor's preview (issue: forms)

    app.register_blueprint(designer_forms.bp)
    from . import designer_editor  # the designer's editor (modeler, drafts)

    app.register_blueprint(designer_editor.bp)
    from . import designer_panel  # the editor's properties panel (groups, fields, checks)

    app.register_blueprint(designer_panel.bp)
    from . import desk  # the window's daily tools: 已办, staff search, notices (issue 17 · C)

    app.register_blueprint(desk.bp)
    from . import ratings  # 好差评 recorded at the window (issue 17 · F)

    app.register_blueprint(ratings.bp)
    from . import messages  # 消息中心 and 催办 (issue 17 · G)

    app.register_blueprint(messages.bp)
    from . import withdraw  # 撤回 in the pages (issue 17 · B)

    app.register_blueprint(withdraw.bp)
