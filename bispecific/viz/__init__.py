"""The interactive page in the browser: `bispecific view [SCENARIO.toml]`.

Owns the page (Solara components: the grid drawn from the model's arrays with a scale bar,
live plots of the DataCollector's columns, controls in clinical terms, play/step/reset,
saving the settings as a scenario file), the pictures it shows (`pictures`, plain NumPy
and matplotlib, importable without the viz extra) and the server that compiles the kernels
before it serves the page. The page drives `bispecific.simulation.ScenarioModel`; its
dependencies are the optional extra `pip install -e ".[viz]"`.

May import: everything except `cli` (`units` to `cohorts`).
"""
