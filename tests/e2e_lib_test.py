#!/usr/bin/python3
"""Tests of the e2e tests' own machinery (e2e_lib.py), with real processes: a server whose
port was taken comes up on another, a server that dies or never gets ready is an error with
its log, children die with the test even when it is SIGKILLed, and main() removes its temp
directory and stops its servers whatever the outcome. Python's http.server stands in for a
server: it needs nothing but this interpreter."""

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import e2e_lib as e2e

HERE = os.path.dirname(os.path.abspath(__file__))


def http_server_argv(directory):
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
            directory, "{port}"]


def gone(pid):
    """True once `pid` has exited (a zombie nobody reaped yet counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def run_script(body, *args):
    """Runs `body` as a script next to e2e_lib; returns the Popen (stdout piped)."""
    script = "import sys\nsys.path.insert(0, %r)\nimport e2e_lib as e2e\n" % HERE
    return subprocess.Popen([sys.executable, "-c", script + textwrap.dedent(body), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="kiln-e2e-lib-test-")

    def tearDown(self):
        e2e.stop_all()
        subprocess.run(["rm", "-rf", self.work])

    def test_a_taken_port_is_retried_on_another(self):
        # A listener holds the first port handed out, as a server of a test running next to
        # this one would after our pick and before our server's bind.
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        picks = [taken]
        real_free_port = e2e.free_port
        e2e.free_port = lambda: picks.pop() if picks else real_free_port()
        try:
            srv = e2e.Server(http_server_argv(self.work), os.path.join(self.work, "s.log"),
                             probe=e2e.answers_200("/"))
            self.assertEqual(srv.port, taken)
            srv.wait_ready()
        finally:
            e2e.free_port = real_free_port
            holder.close()
        self.assertNotEqual(srv.port, taken)
        self.assertEqual(e2e.request(srv.url + "/").status, 200)
        self.assertIn("address already in use", srv.read_log().lower())
        self.assertEqual(srv.stop(), -15)  # http.server dies of the SIGTERM
        self.assertEqual(srv.stop(), -15)  # idempotent

    def test_a_server_that_exits_is_an_error_with_its_log(self):
        srv = e2e.Server([sys.executable, "-c", "print('no such flag: --x', flush=True); exit(3)"],
                         os.path.join(self.work, "bad.log"))
        with self.assertRaises(e2e.ServerError) as ctx:
            srv.wait_ready()
        self.assertIn("exited with 3", str(ctx.exception))
        self.assertIn("no such flag: --x", str(ctx.exception))

    def test_a_server_never_ready_is_an_error_and_is_stopped(self):
        srv = e2e.Server([sys.executable, "-c", "import time; time.sleep(300)"],
                         os.path.join(self.work, "slow.log"))
        started = time.monotonic()
        with self.assertRaises(e2e.ServerError) as ctx:
            srv.wait_ready(timeout=1)
        self.assertIn("not ready after 1s", str(ctx.exception))
        self.assertGreaterEqual(time.monotonic() - started, 1)
        pid = srv.proc.pid
        e2e.stop_all()
        self.assertTrue(gone(pid))

    def test_a_reserved_port_refuses_connections(self):
        sock, port = e2e.reserved_port()
        try:
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=10)
            with socket.socket() as other, self.assertRaises(OSError):
                other.bind(("127.0.0.1", port))
        finally:
            sock.close()


class LifetimeTest(unittest.TestCase):
    def test_servers_die_with_a_killed_test(self):
        # The test process starts a server, says its pid, and is then SIGKILLed: no finally
        # or atexit runs, yet the server must not outlive it.
        work = tempfile.mkdtemp(prefix="kiln-e2e-lib-test-")
        proc = run_script("""
            import os, sys, time
            srv = e2e.Server([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                              "--directory", sys.argv[1], "{port}"],
                             os.path.join(sys.argv[1], "s.log"), probe=e2e.answers_200("/"))
            srv.wait_ready()
            print(srv.proc.pid, flush=True)
            time.sleep(300)
        """, work)
        try:
            child = int(proc.stdout.readline())
            self.assertFalse(gone(child))
            proc.kill()
            proc.wait()
            e2e.wait_until(lambda: gone(child), 30, f"server {child} exiting with its parent")
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            subprocess.run(["rm", "-rf", work])

    def test_main_cleans_up_after_a_failure(self):
        proc = run_script("""
            import os, sys
            def body(args, work):
                srv = e2e.Server([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                  "--directory", work, "{port}"], os.path.join(work, "s.log"),
                                 probe=e2e.answers_200("/"))
                srv.wait_ready()
                e2e.request(srv.url + "/marker-in-the-log")
                print("work", work, "pid", srv.proc.pid, flush=True)
                assert False, "the check failed"
            sys.exit(e2e.main(body, "kiln-e2e-lib-test-", needs=()))
        """, "--build-dir", "/nonexistent")
        out, _ = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("AssertionError: the check failed", out)
        words = out.split("work ", 1)[1].split()
        work, pid = words[0], int(words[2])
        self.assertFalse(os.path.exists(work), out)
        self.assertTrue(gone(pid))
        # The log tail stands in for the directory that is gone.
        self.assertIn("--- s log", out)
        self.assertIn("/marker-in-the-log", out)

    def test_main_removes_the_directory_of_a_killed_run(self):
        # A run SIGKILLed mid-test leaves its directory; the next run of the same test removes
        # it, and leaves alone the directory of a run still going (this process's pid).
        prefix = f"kiln-e2e-lib-test-orphans-{os.getpid()}-"
        killed = run_script("""
            import sys, time
            def body(args, work):
                print(work, flush=True)
                time.sleep(300)
            sys.exit(e2e.main(body, %r, needs=()))
        """ % prefix, "--build-dir", "/nonexistent")
        orphan = killed.stdout.readline().strip()
        killed.kill()
        killed.wait()
        killed.stdout.close()
        self.assertTrue(os.path.isdir(orphan))
        live = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")
        try:
            proc = run_script("""
                import sys
                sys.exit(e2e.main(lambda args, work: 0, %r, needs=()))
            """ % prefix, "--build-dir", "/nonexistent")
            out, _ = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, out)
            self.assertFalse(os.path.exists(orphan))
            self.assertTrue(os.path.isdir(live))
        finally:
            subprocess.run(["rm", "-rf", live, orphan])

    def test_main_skips_when_a_tool_is_missing(self):
        proc = run_script("""
            import sys
            sys.exit(e2e.main(lambda args, work: 1, "kiln-e2e-lib-test-",
                              needs=("/nonexistent/promtool",)))
        """, "--build-dir", "/nonexistent")
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, e2e.SKIP, out)
        self.assertIn("SKIP: /nonexistent/promtool is not installed", out)


class WaitUntilTest(unittest.TestCase):
    def test_returns_the_first_truthy_value(self):
        calls = []
        got = e2e.wait_until(lambda: calls.append(1) or (len(calls) >= 3 and "done"), 30, "x",
                             interval=0.01)
        self.assertEqual((got, len(calls)), ("done", 3))

    def test_the_deadline_names_the_last_state(self):
        state = {"seen": 0}
        with self.assertRaises(AssertionError) as ctx:
            e2e.wait_until(lambda: state.update(seen=state["seen"] + 1), 0.2,
                           lambda: f"checked {state['seen'] > 1} times", interval=0.01)
        self.assertIn("not within 0.2s: checked True times", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
