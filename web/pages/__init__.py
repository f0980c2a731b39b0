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

# copies: 抄送我的, 抄送 and 评论, routes of the clerk blueprint (issue 18 · 6, 9)
from . import admin, assets, auditor, auth, cases, clerk, copies, designer, incidents, public  # noqa: F401


def register(app: Flask) -> None:
    from . import (
        add_signer,  # noqa: F401  并行加签 / 减签 in a running 会签 (issue 18 · 5)
        countersign,  # noqa: F401  加签 / 减签 on the clerk blueprint (issue 18 · 5)
        handover,  # noqa: F401  转办 and 委派 on the clerk blueprint (issue 18 · 2, 3)
        send_back,  # noqa: F401  退回 and 撤回 on the clerk blueprint (issue 18 · 1, 7)
    )

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
    from . import suspension  # 挂起 / 恢复 (issue 18 · 8)

    app.register_blueprint(suspension.bp)
    from . import statistics  # 时限统计 (issue 19 · 3)

    app.register_blueprint(statistics.bp)
    from . import extension  # 延期 (issue 19 · 2)

    app.register_blueprint(extension.bp)
    from . import hearing  # 听证 (issue 19 · 6)

    app.register_blueprint(hearing.bp)
    from . import dashboard  # 效能监察 (issue 21)

    app.register_blueprint(dashboard.bp)
