"""The SpiffWorkflow wrapper: safe XML, parsing, the safe script engine, state storage, running.

The rest of lianban sees SpiffWorkflow only through this package (and engine.bundles, which
parses uploads with it): a case's workflow is a `CaseWorkflow` (case_workflow.py). Importing the
package checks the installed SpiffWorkflow's version and patches it (patches.py).
"""

from . import patches as patches
