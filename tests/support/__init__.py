"""What the tests (and the benchmarks) share: the panel's processes, the PBX simulator, the
personas, the browser login, websocket helpers and private services. Test modules and conftests
import from here, never from each other.

- `waiting`: waiting on a condition with a deadline, never a fixed sleep.
- `services`: a free port, a private `redis-server`, a database of a stack's own, the tests' Redis.
- `processes`: one long-running process with its log, Celery, the web server, `manage.py`.
- `stack`: the whole panel (web server, worker, beat) as production runs it.
- `pbx`: the simulator's credentials and the simulator served over HTTP.
- `personas`: Alice the agent, Sam the supervisor, Ayşe the customer.
- `browser`: Chromium and the login through the form.
- `threaded_browser`: Chromium driven from a thread of its own, for tests that break servers.
- `live_socket`: a panel's websocket against the ASGI application in this process.
- `tcp_proxy`, `db_faults`, `export_files`: faults to inject and exports to read back.
- `compose`: docker-compose.yml as the tests read it.
- `wallboard_polls`: poll sequences as data, played through the live diff and the wallboard.
"""
