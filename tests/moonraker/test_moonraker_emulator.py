"""Contract tests of the Moonraker emulator against /work/shared/reference/moonraker-api.md.

One test per fact of the reference, named after the fact (the README maps
reference sections to test names). Each test starts the emulator as a
subprocess on a free loopback port, talks to it over real HTTP (urllib) or
websockets, and stops it by PID.

Run: cd tests/moonraker && python3 -m unittest -v test_moonraker_emulator
Tests run on MOONRAKER_TEST_WORKERS threads (default 3): each one mostly
waits on its own emulator, so this bounds the file's time.
"""

import http.client
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
import threading
import unittest
import urllib.error
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emulator import eddsa  # noqa: E402
from emulator_harness import EMULATOR, Emulator  # noqa: E402

HOMED_PRINT = "G28\nM104 S200\nM109 S200\nG1 X10 Y10 Z0.3 F3000\nG1 X20 E1\nG1 X30 E2\nG1 X40 E3\n"
FROZEN = {"timeline": {"bytes_per_second": 0}}
HISTORY_TICK = 0.25


class _RecordingResult(unittest.TestResult):
    """Collects one test's outcome so it can be replayed on the shared result."""

    def __init__(self):
        super().__init__()
        self.events = []

    def addSuccess(self, test):  # noqa: N802 - unittest's name
        """Record a pass."""
        self.events.append(("addSuccess", ()))

    def addError(self, test, err):  # noqa: N802
        """Record an error."""
        self.events.append(("addError", (err,)))

    def addFailure(self, test, err):  # noqa: N802
        """Record a failure."""
        self.events.append(("addFailure", (err,)))

    def addSkip(self, test, reason):  # noqa: N802
        """Record a skip."""
        self.events.append(("addSkip", (reason,)))

    def replay(self, test, result):
        """Report the recorded outcome on `result`."""
        result.startTest(test)
        for name, arguments in self.events:
            getattr(result, name)(test, *arguments)
        result.stopTest(test)


class ConcurrentSuite(unittest.TestSuite):
    """Runs its tests on a few threads and reports each outcome in one piece."""

    def __init__(self, tests, workers):
        super().__init__(tests)
        self.workers = workers

    def _flat(self, suite):
        for item in suite:
            if isinstance(item, unittest.TestSuite):
                yield from self._flat(item)
            else:
                yield item

    def run(self, result, debug=False):
        """Run every test, at most `workers` at a time."""
        lock = threading.Lock()

        def run_one(test):
            recorder = _RecordingResult()
            test(recorder)
            with lock:
                recorder.replay(test, result)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(run_one, list(self._flat(self))))
        return result


def load_tests(loader, tests, pattern):
    """unittest hook: run this module's tests concurrently."""
    return ConcurrentSuite(tests, int(os.environ.get("MOONRAKER_TEST_WORKERS", "3")))


class EmulatorTestCase(unittest.TestCase):
    """Starts one emulator per test (scenario from `self.scenario`) and stops it by PID afterwards."""

    scenario = None

    def start(self, scenario=None, extra_args=()):
        """Start an emulator with `scenario` and register its stop."""
        emulator = Emulator(scenario if scenario is not None else self.scenario, extra_args)
        self.addCleanup(emulator.stop)
        return emulator

    def assert_error(self, reply, status, message):
        """Assert Moonraker's error shape with the given status and message."""
        self.assertEqual(reply.status, status, reply.body)
        self.assertEqual(reply.error["code"], status)
        self.assertEqual(reply.error["message"], message)
        self.assertIn("Traceback", reply.error["traceback"])

    def start_frozen_print(self, emulator, filename="ipp/job-0001.gcode", text=HOMED_PRINT):
        """Upload and start a print that stays on its first line (bytes_per_second 0)."""
        emulator.upload_and_start(filename, text)
        return emulator.wait_state("printing")

    @staticmethod
    def wait_history(emulator, filename, status):
        """Wait until Moonraker's history shows a job for `filename` with `status` (it samples every 250 ms)."""
        def job():
            """Return the matching history job, or None."""
            for entry in emulator.get("/server/history/list").result["jobs"]:
                if entry["filename"] == filename and entry["status"] == status:
                    return entry
            return None
        return emulator.wait_for(job)


# ---------------------------------------------------------------------- observed on a real instance

class ObservedBehaviour(EmulatorTestCase):
    """Reference: 'Observed against the real instance, beyond the docs'."""

    def test_observed_history_gap_first_line_failure_after_failed_job_not_recorded(self):
        emulator = self.start()
        emulator.upload_and_start("first.gcode", "G1 X10\n")
        self.wait_history(emulator, "first.gcode", "error")
        emulator.upload_and_start("second.gcode", "G1 X10\n")
        stats = emulator.wait_state("error")
        self.assertEqual(stats["filename"], "second.gcode")
        time.sleep(1.5 * HISTORY_TICK)
        jobs = emulator.get("/server/history/list").result["jobs"]
        self.assertEqual([job["filename"] for job in jobs], ["first.gcode"])
        self.assertEqual(jobs[0]["status"], "error")

    def test_observed_pause_while_idle_answers_ok_and_sets_is_paused(self):
        emulator = self.start()
        reply = emulator.post("/printer/print/pause")
        self.assertEqual(reply.result, "ok")
        status = emulator.query("print_stats", "pause_resume")
        self.assertEqual(status["print_stats"]["state"], "standby")
        self.assertTrue(status["pause_resume"]["is_paused"])

    def test_observed_resume_while_not_paused_answers_ok_and_does_nothing(self):
        emulator = self.start()
        before = emulator.query("print_stats", "pause_resume")
        self.assertEqual(emulator.post("/printer/print/resume").result, "ok")
        self.assertEqual(emulator.query("print_stats", "pause_resume")["print_stats"]["state"],
                         before["print_stats"]["state"])
        self.assertFalse(emulator.query("pause_resume")["pause_resume"]["is_paused"])

    def test_observed_cancel_while_idle_answers_ok_and_does_nothing(self):
        emulator = self.start()
        self.assertEqual(emulator.post("/printer/print/cancel").result, "ok")
        stats = emulator.print_stats()
        self.assertEqual((stats["state"], stats["filename"]), ("standby", ""))

    def test_observed_newline_error_unknown_over_http_full_over_jsonrpc(self):
        emulator = self.start()
        emulator.post("/printer/emergency_stop")
        http_reply = emulator.gcode("G28")
        self.assert_error(http_reply, 400, "Unknown")
        rpc_reply = emulator.jsonrpc("printer.gcode.script", {"script": "G28"})
        message = rpc_reply.json["error"]["message"]
        self.assertIn("\n", message)
        self.assertTrue(message.startswith("Shutdown due to webhooks request"))

    def test_observed_loopback_not_trusted_by_default(self):
        emulator = self.start()
        self.assertEqual(emulator.get("/server/info", auth=False).status, 401)
        self.assertEqual(emulator.get("/server/info").status, 200)


# ---------------------------------------------------------------------- A1 general rules

class A1GeneralRules(EmulatorTestCase):
    """Reference A1: body shapes, status codes, no server-side timeout."""

    def test_a1_success_body_is_result_and_print_gcode_calls_return_ok(self):
        emulator = self.start(FROZEN)
        self.assertIn("klippy_state", emulator.get("/server/info").result)
        self.assertEqual(emulator.gcode("M117 hello").json, {"result": "ok"})
        emulator.upload("a.gcode", HOMED_PRINT.encode())
        for path in ("/printer/print/start?filename=a.gcode", "/printer/print/pause", "/printer/print/resume",
                     "/printer/print/cancel"):
            self.assertEqual(emulator.post(path).json, {"result": "ok"}, path)

    def test_a1_error_body_has_code_message_and_traceback(self):
        emulator = self.start()
        reply = emulator.gcode("M28")
        self.assertEqual(set(reply.json), {"error"})
        self.assertEqual(set(reply.error), {"code", "message", "traceback"})
        self.assert_error(reply, 400, "SD write not supported")

    def test_a1_newline_message_unknown_in_status_line_and_body(self):
        emulator = self.start()
        emulator.control("klippy_shutdown")
        reply = emulator.gcode("M104 S200")
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.reason, "Unknown")
        self.assertEqual(reply.error["message"], "Unknown")

    def test_a1_jsonrpc_always_http_200_error_in_body(self):
        emulator = self.start(FROZEN)
        emulator.upload("a.gcode", HOMED_PRINT.encode())
        emulator.post("/printer/print/start?filename=a.gcode")
        busy = emulator.jsonrpc("printer.gcode.script", {"script": 'SDCARD_PRINT_FILE FILENAME="a.gcode"'},
                                request_id=7)
        self.assertEqual(busy.status, 200)
        self.assertEqual(busy.json, {"jsonrpc": "2.0", "error": {"code": 400, "message": "SD busy"}, "id": 7})
        unknown = emulator.jsonrpc("printer.does.not.exist")
        self.assertEqual(unknown.status, 200)
        self.assertEqual(unknown.json["error"]["code"], -32601)
        unauthorized = emulator.jsonrpc("printer.gcode.script", {"script": "G28"}, auth=False)
        self.assertEqual(unauthorized.status, 200)
        self.assertEqual(unauthorized.json["error"], {"code": -32602, "message": "Unauthorized"})

    def test_a1_status_400_klipper_rejected_command(self):
        emulator = self.start()
        self.assert_error(emulator.gcode("G1 X10"), 400, "Must home axis first: 10.000 0.000 0.000 [0.000]")

    def test_a1_status_503_klippy_host_not_connected(self):
        emulator = self.start({"klippy": {"connected": False}})
        self.assert_error(emulator.post("/printer/print/start?filename=a.gcode"), 503, "Klippy Host not connected")
        self.assert_error(emulator.post("/printer/print/cancel"), 503, "Klippy Host not connected")

    def test_a1_status_404_query_and_info_before_klippy_ever_connected(self):
        emulator = self.start({"klippy": {"connected": False}})
        for path in ("/printer/objects/query?webhooks", "/printer/info", "/printer/gcode/script?script=G28"):
            self.assert_error(emulator.get(path), 404, "Not Found")
        emulator.control("klippy_connect")
        self.assertEqual(emulator.get("/printer/info").status, 200)

    def test_a1_status_503_after_later_disconnect(self):
        emulator = self.start()
        emulator.control("klippy_disconnect")
        self.assert_error(emulator.get("/printer/objects/query?webhooks"), 503, "Klippy Host not connected")
        self.assert_error(emulator.get("/printer/info"), 503, "Klippy Host not connected")

    def test_a1_status_401_not_authorized(self):
        emulator = self.start()
        reply = emulator.get("/printer/info", headers={"X-Api-Key": "0" * 32})
        self.assert_error(reply, 401, "Unauthorized")

    def test_a1_status_403_file_in_use(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.wait_history(emulator, "ipp/job-0001.gcode", "in_progress")
        reply = emulator.delete("/server/files/gcodes/ipp/job-0001.gcode")
        self.assert_error(reply, 403, "Forbidden")

    def test_a1_status_422_checksum_mismatch(self):
        emulator = self.start()
        reply = emulator.upload("a.gcode", b"G28\n", checksum="0" * 64)
        self.assert_error(reply, 422, "Unprocessable Entity")

    def test_a1_no_server_side_timeout_start_during_homing_waits_then_sd_busy(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.6}})
        emulator.upload_and_start("homing.gcode", "G28\nM117 homed\n")
        started = time.monotonic()
        reply = emulator.post("/printer/print/start?filename=homing.gcode")
        waited = time.monotonic() - started
        self.assert_error(reply, 400, "SD busy")
        self.assertGreater(waited, 0.4)

    def test_a1_no_server_side_timeout_pause_waits_for_gcode_mutex(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.6}})
        emulator.upload_and_start("homing.gcode", "G28\nM117 homed\nG1 X10\n")
        started = time.monotonic()
        self.assertEqual(emulator.post("/printer/print/pause").result, "ok")
        self.assertGreater(time.monotonic() - started, 0.4)
        self.assertEqual(emulator.print_stats()["state"], "paused")

    def test_a1_no_server_side_timeout_printer_info_hangs_while_klippy_stuck(self):
        emulator = self.start()
        emulator.control("klippy_hang", seconds=None)
        with self.assertRaises((socket.timeout, urllib.error.URLError, TimeoutError)):
            emulator.get("/printer/info", timeout=0.4)
        self.assertEqual(emulator.get("/server/info").result["klippy_state"], "ready")
        emulator.control("klippy_unhang")
        self.assertEqual(emulator.get("/printer/info").status, 200)

    def test_a1_client_timeout_means_outcome_unknown_requery_state(self):
        emulator = self.start()
        emulator.upload("late.gcode", HOMED_PRINT.encode())
        emulator.control("delay", path="/printer/print/start", seconds=0.5)
        with self.assertRaises((socket.timeout, urllib.error.URLError, TimeoutError)):
            emulator.post("/printer/print/start?filename=late.gcode", timeout=0.2)
        stats = emulator.wait_for(lambda: (lambda s: s if s["filename"] == "late.gcode" else None)(
            emulator.print_stats()))
        self.assertIn(stats["state"], ("printing", "complete"))


# ---------------------------------------------------------------------- A2 upload

class A2Upload(EmulatorTestCase):
    """Reference A2: POST /server/files/upload."""

    def test_a2_upload_multipart_filename_is_stored_name(self):
        emulator = self.start()
        reply = emulator.upload("job-0001.gcode", b"G28\n")
        self.assertEqual(reply.json["item"]["path"], "job-0001.gcode")
        files = [entry["path"] for entry in emulator.get("/server/files/list").result]
        self.assertEqual(files, ["job-0001.gcode"])

    def test_a2_upload_empty_multipart_filename_400(self):
        emulator = self.start()
        reply = emulator.upload("", b"G28\n")
        self.assert_error(reply, 400, "Bad Request")
        self.assertIn("Multipart filename omitted", reply.error["traceback"])

    def test_a2_upload_root_config_and_path_subfolder_created(self):
        emulator = self.start()
        self.assertEqual(emulator.upload("extra.cfg", b"[respond]\n", root="config").json["item"]["root"],
                         "config")
        reply = emulator.upload("job.gcode", b"G28\n", path="ipp/deep")
        self.assertEqual(reply.json["item"], dict(reply.json["item"], path="ipp/deep/job.gcode", root="gcodes"))
        dirs = emulator.get("/server/files/directory?path=gcodes/ipp").result["dirs"]
        self.assertEqual([entry["dirname"] for entry in dirs], ["deep"])

    def test_a2_upload_checksum_sha256_lowercase_accepted(self):
        emulator = self.start()
        data = b"G28\nG1 Z5\n"
        import hashlib
        reply = emulator.upload("sum.gcode", data, checksum=hashlib.sha256(data).hexdigest())
        self.assertEqual(reply.status, 201)
        self.assertEqual(reply.json["item"]["size"], len(data))

    def test_a2_upload_checksum_mismatch_422_and_file_removed(self):
        emulator = self.start()
        reply = emulator.upload("bad.gcode", b"G28\n", checksum="ab" * 32)
        self.assertEqual(reply.status, 422)
        self.assertIn("File checksum mismatch", reply.error["traceback"])
        self.assertEqual(emulator.get("/server/files/list").result, [])

    def test_a2_upload_allowed_gcode_extensions(self):
        emulator = self.start()
        for name in ("a.gcode", "b.g", "c.gco", "d.nc"):
            reply = emulator.upload(name, b"G28\n")
            self.assertIn("print_started", reply.json, name)
        other = emulator.upload("notes.txt", b"hello\n", start="true")
        self.assertEqual(other.status, 201)
        self.assertNotIn("print_started", other.json)
        listed = sorted(entry["path"] for entry in emulator.get("/server/files/list").result)
        self.assertEqual(listed, ["a.gcode", "b.g", "c.gco", "d.nc"])
        self.assert_error(emulator.post("/printer/print/start?filename=d.nc"), 400, "Unable to open file")

    def test_a2_upload_ufp_unzipped_to_gcode(self):
        emulator = self.start()
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as ufp:
            ufp.writestr("/3D/model.gcode", "G28\nG1 Z10\n")
        reply = emulator.upload("model.ufp", archive.getvalue())
        self.assertEqual(reply.status, 201)
        self.assertEqual(reply.json["item"]["path"], "model.gcode")
        self.assertEqual(reply.json["item"]["size"], len("G28\nG1 Z10\n"))

    def test_a2_upload_201_body_and_location_header(self):
        emulator = self.start()
        reply = emulator.upload("job-0001.gcode", b"G28\n" * 10, path="ipp")
        self.assertEqual(reply.status, 201)
        self.assertEqual(reply.headers["Location"],
                         f"http://127.0.0.1:{emulator.port}/server/files/gcodes/ipp/job-0001.gcode")
        body = reply.json
        self.assertEqual(body["action"], "create_file")
        self.assertEqual((body["print_started"], body["print_queued"]), (False, False))
        item = body["item"]
        self.assertEqual((item["path"], item["root"], item["size"], item["permissions"]),
                         ("ipp/job-0001.gcode", "gcodes", 40, "rw"))
        self.assertIsInstance(item["modified"], float)

    def test_a2_upload_larger_than_max_upload_size_400_empty_body(self):
        emulator = self.start({"moonraker_conf": {"server": {"max_upload_size": 1}}})
        reply = emulator.upload("big.gcode", b";" * (1024 * 1024 + 10))
        self.assertEqual((reply.status, reply.body), (400, b""))
        self.assertEqual(emulator.get("/server/files/list").result, [])
        self.assertEqual(emulator.upload("small.gcode", b"G28\n").status, 201)

    def test_a2_upload_print_true_sends_sdcard_print_file(self):
        emulator = self.start(FROZEN)
        for not_exactly_true in ("True", "1", "yes"):
            self.assertFalse(emulator.upload("now.gcode", HOMED_PRINT.encode(), start=not_exactly_true)
                             .json["print_started"])
        reply = emulator.upload("now.gcode", HOMED_PRINT.encode(), start="true")
        self.assertTrue(reply.json["print_started"])
        commands = [entry["command"] for entry in emulator.state()["klipper_commands"]]
        self.assertIn('SDCARD_PRINT_FILE FILENAME="now.gcode"', commands)
        self.assertEqual(emulator.print_stats()["state"], "printing")

    def test_a2_upload_print_true_failed_start_still_201_print_started_false(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator, "running.gcode")
        reply = emulator.upload("other.gcode", HOMED_PRINT.encode(), start="true")
        self.assertEqual(reply.status, 201)
        self.assertEqual((reply.json["print_started"], reply.json["print_queued"]), (False, False))
        self.assertEqual(emulator.print_stats()["filename"], "running.gcode")

    def test_a2_upload_without_print_does_not_start(self):
        emulator = self.start()
        reply = emulator.upload("later.gcode", HOMED_PRINT.encode())
        self.assertFalse(reply.json["print_started"])
        self.assertEqual(emulator.state()["klipper_commands"], [])
        self.assertEqual(emulator.print_stats()["state"], "standby")

    def test_a2_upload_print_queued_only_with_queue_gcode_uploads(self):
        emulator = self.start({"timeline": {"bytes_per_second": 0},
                               "moonraker_conf": {"file_manager": {"queue_gcode_uploads": True}}})
        self.start_frozen_print(emulator, "running.gcode")
        reply = emulator.upload("queued.gcode", HOMED_PRINT.encode(), start="true")
        self.assertEqual((reply.json["print_started"], reply.json["print_queued"]), (False, True))
        self.assertEqual(emulator.state()["queued_jobs"], ["queued.gcode"])

    def test_a2_upload_overwrite_of_file_being_printed_403(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.wait_history(emulator, "ipp/job-0001.gcode", "in_progress")
        reply = emulator.upload("job-0001.gcode", b"G28\n", path="ipp")
        self.assert_error(reply, 403, "Forbidden")
        self.assertIn("File is loaded, upload not permitted", reply.error["traceback"])


# ---------------------------------------------------------------------- A3 print control

class A3PrintControl(EmulatorTestCase):
    """Reference A3: print start/pause/resume/cancel."""

    def test_a3_print_start_sends_sdcard_print_file_with_escaped_filename(self):
        emulator = self.start()
        emulator.upload('say "hi".gcode', b"G28\n")
        reply = emulator.post("/printer/print/start?filename=/say%20%22hi%22.gcode")
        self.assertEqual(reply.result, "ok")
        commands = [entry["command"] for entry in emulator.state()["klipper_commands"]]
        self.assertEqual(commands, ['SDCARD_PRINT_FILE FILENAME="say \\"hi\\".gcode"'])
        self.assertEqual(emulator.print_stats()["filename"], 'say "hi".gcode')

    def test_a3_pause_resume_cancel_go_to_pause_resume(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        emulator.post("/printer/print/pause")
        self.assertEqual(emulator.print_stats()["state"], "paused")
        self.assertTrue(emulator.query("pause_resume")["pause_resume"]["is_paused"])
        emulator.post("/printer/print/resume")
        self.assertEqual(emulator.print_stats()["state"], "printing")
        emulator.post("/printer/print/cancel")
        self.assertEqual(emulator.print_stats()["state"], "cancelled")
        origins = [(entry["origin"], entry["command"]) for entry in emulator.state()["klipper_commands"]]
        self.assertEqual(origins[-3:], [("pause_resume", "PAUSE"), ("pause_resume", "RESUME"),
                                        ("pause_resume", "CANCEL_PRINT")])

    def test_a3_pause_resume_need_pause_resume_section(self):
        emulator = self.start({"printer_cfg": {"pause_resume": None}})
        self.assert_error(emulator.post("/printer/print/pause"), 400,
                          "webhooks: No registered callback for path 'pause_resume/pause'")
        self.assertNotIn("pause_resume", emulator.query("pause_resume", "webhooks"))

    def test_a3_start_while_printing_sd_busy(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.assert_error(emulator.post("/printer/print/start?filename=ipp/job-0001.gcode"), 400, "SD busy")

    def test_a3_start_missing_file_unable_to_open_and_standby(self):
        emulator = self.start()
        emulator.upload_and_start("done.gcode", "G28\n")
        emulator.wait_state("complete")
        self.assert_error(emulator.post("/printer/print/start?filename=missing.gcode"), 400,
                          "Unable to open file")
        stats = emulator.print_stats()
        self.assertEqual((stats["state"], stats["filename"]), ("standby", ""))

    def test_a3_start_without_filename_no_data_for_argument(self):
        emulator = self.start()
        self.assert_error(emulator.post("/printer/print/start"), 400, "No data for argument: filename")

    def test_a3_start_when_klippy_not_ready_state_message_unknown(self):
        emulator = self.start({"klippy": {"state": "error"}})
        emulator.upload("a.gcode", b"G28\n")
        self.assert_error(emulator.post("/printer/print/start?filename=a.gcode"), 400, "Unknown")

    def test_a3_start_when_klippy_disconnected_503(self):
        emulator = self.start()
        emulator.control("klippy_disconnect")
        self.assert_error(emulator.post("/printer/print/start?filename=a.gcode"), 503,
                          "Klippy Host not connected")

    def test_a3_cancel_resets_progress_to_zero(self):
        emulator = self.start({"timeline": {"bytes_per_second": 40}})
        emulator.upload_and_start("slow.gcode", HOMED_PRINT)
        emulator.wait_for(lambda: emulator.query("virtual_sdcard")["virtual_sdcard"]["progress"] > 0.1)
        emulator.post("/printer/print/cancel")
        sdcard = emulator.query("virtual_sdcard")["virtual_sdcard"]
        self.assertEqual((sdcard["progress"], sdcard["file_position"], sdcard["file_size"]), (0.0, 0, 0))
        self.assertEqual(emulator.print_stats()["state"], "cancelled")


# ---------------------------------------------------------------------- A4 status

OBJECTS = "print_stats&virtual_sdcard&webhooks&extruder&heater_bed&display_status&pause_resume"


class A4Status(EmulatorTestCase):
    """Reference A4: GET/POST /printer/objects/query and the meaning of its fields."""

    def test_a4_get_query_string_objects_and_field_selection(self):
        emulator = self.start()
        status = emulator.get("/printer/objects/query?print_stats=state,filename&webhooks").result["status"]
        self.assertEqual(status["print_stats"], {"state": "standby", "filename": ""})
        self.assertEqual(set(status["webhooks"]), {"state", "state_message"})

    def test_a4_post_query_json_objects(self):
        emulator = self.start()
        reply = emulator.post("/printer/objects/query",
                              json_body={"objects": {"print_stats": None, "extruder": ["target"]}})
        self.assertEqual(reply.result["status"]["extruder"], {"target": 0.0})
        self.assertIn("info", reply.result["status"]["print_stats"])

    def test_a4_unknown_objects_left_out(self):
        emulator = self.start()
        status = emulator.get("/printer/objects/query?webhooks&no_such_object&heater_chamber").result["status"]
        self.assertEqual(list(status), ["webhooks"])

    def test_a4_response_shape_and_fields(self):
        emulator = self.start()
        result = emulator.get("/printer/objects/query?" + OBJECTS).result
        self.assertIsInstance(result["eventtime"], float)
        status = result["status"]
        self.assertEqual(set(status["print_stats"]), {"filename", "total_duration", "print_duration",
                                                      "filament_used", "state", "message", "info"})
        self.assertEqual(set(status["print_stats"]["info"]), {"total_layer", "current_layer"})
        self.assertEqual(set(status["virtual_sdcard"]), {"file_path", "progress", "is_active",
                                                         "file_position", "file_size"})
        self.assertEqual(status["webhooks"], {"state": "ready", "state_message": "Printer is ready"})
        self.assertTrue({"temperature", "target", "power", "can_extrude"} <= set(status["extruder"]))
        self.assertEqual(set(status["heater_bed"]), {"temperature", "target", "power"})
        self.assertEqual(set(status["display_status"]), {"progress", "message"})
        self.assertEqual(status["pause_resume"], {"is_paused": False})

    def test_a4_cancelled_state_reported(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        emulator.post("/printer/print/cancel")
        self.assertEqual(emulator.print_stats()["state"], "cancelled")

    def test_a4_message_holds_move_out_of_range(self):
        emulator = self.start({"printer_cfg": {"stepper_x": {"position_max": 235}},
                               "timeline": {"heating_rate": 2000}})
        emulator.upload_and_start("far.gcode", "G28\nM109 S200\nG1 X200 Y20 Z1 E10.5\nG1 X500\n")
        stats = emulator.wait_state("error")
        self.assertEqual(stats["message"], "Move out of range: 500.000 20.000 1.000 [10.500]")

    def test_a4_message_holds_requested_temperature_out_of_range(self):
        emulator = self.start({"printer_cfg": {"extruder": {"max_temp": 210}}})
        emulator.upload_and_start("hot.gcode", "G28\nM104 S300\n")
        stats = emulator.wait_state("error")
        self.assertEqual(stats["message"], "Requested temperature (300.0) out of range (0.0:210.0)")

    def test_a4_print_duration_excludes_pauses_and_time_before_first_extrusion(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.4, "bytes_per_second": 1000,
                                            "heating_rate": 1000}})
        tail = "M117 still printing\n" * 200
        emulator.upload_and_start("timed.gcode", "G28\nM109 S200\nG1 X5 E1\n" + tail)
        emulator.wait_for(lambda: emulator.print_stats()["filament_used"] > 0)
        emulator.post("/printer/print/pause")
        time.sleep(0.3)
        stats = emulator.print_stats()
        self.assertEqual(stats["state"], "paused")
        self.assertGreater(stats["total_duration"], 0.85)
        self.assertGreaterEqual(stats["print_duration"], 0.0)
        self.assertLess(stats["print_duration"], stats["total_duration"] - 0.65)

    def test_a4_info_null_unless_set_print_stats_info(self):
        emulator = self.start()
        emulator.upload_and_start("plain.gcode", "G28\nG1 Z1\n")
        self.assertEqual(emulator.wait_state("complete")["info"], {"total_layer": None, "current_layer": None})
        emulator.upload_and_start("layers.gcode", "SET_PRINT_STATS_INFO TOTAL_LAYER=3\n"
                                                  "SET_PRINT_STATS_INFO CURRENT_LAYER=2\n")
        self.assertEqual(emulator.wait_state("complete")["info"], {"total_layer": 3, "current_layer": 2})

    def test_a4_webhooks_state_message_field_and_states(self):
        emulator = self.start({"klippy": {"startup_seconds": 0.4}})
        self.assertEqual(emulator.query("webhooks")["webhooks"]["state"], "startup")
        emulator.wait_for(lambda: emulator.query("webhooks")["webhooks"]["state"] == "ready")
        webhooks = emulator.query("webhooks")["webhooks"]
        self.assertNotIn("message", webhooks)
        self.assertEqual(webhooks["state_message"], "Printer is ready")
        emulator.post("/printer/emergency_stop")
        self.assertEqual(emulator.query("webhooks")["webhooks"]["state"], "shutdown")
        error = self.start({"klippy": {"state": "error"}})
        self.assertEqual(error.query("webhooks")["webhooks"]["state"], "error")

    def test_a4_restart_wipes_print_stats_standby_empty_filename(self):
        emulator = self.start({"timeline": {"bytes_per_second": 0}, "klippy": {"restart_seconds": 0.1}})
        self.start_frozen_print(emulator)
        self.assertEqual(emulator.post("/printer/restart").result, "ok")
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "ready")
        stats = emulator.print_stats()
        self.assertEqual((stats["state"], stats["filename"]), ("standby", ""))

    def test_a4_klippy_disconnect_mid_job_recorded_klippy_disconnect(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.wait_history(emulator, "ipp/job-0001.gcode", "in_progress")
        emulator.control("klippy_disconnect")
        job = emulator.get("/server/history/list").result["jobs"][0]
        self.assertEqual(job["status"], "klippy_disconnect")

    def test_a4_shutdown_mid_job_webhooks_shutdown_not_print_stats_error(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        emulator.control("klippy_shutdown")
        status = emulator.query("webhooks", "print_stats")
        self.assertEqual(status["webhooks"]["state"], "shutdown")
        self.assertNotEqual(status["print_stats"]["state"], "error")
        self.assertEqual(status["print_stats"]["filename"], "ipp/job-0001.gcode")


# ---------------------------------------------------------------------- A5 other endpoints

class A5OtherEndpoints(EmulatorTestCase):
    """Reference A5: server info, printer info, emergency stop, G-code, metadata, history, delete."""

    def test_a5_server_info_fields(self):
        emulator = self.start()
        info = emulator.get("/server/info").result
        for field in ("klippy_connected", "klippy_state", "components", "failed_components", "warnings",
                      "registered_directories", "websocket_count", "moonraker_version"):
            self.assertIn(field, info)
        self.assertEqual(info["api_version"], [1, 5, 0])
        self.assertEqual((info["klippy_connected"], info["klippy_state"]), (True, "ready"))

    def test_a5_server_info_polled_until_klippy_ready(self):
        emulator = self.start({"klippy": {"connected": False, "connect_after_seconds": 0.3,
                                          "startup_seconds": 0.3}})
        states = []
        emulator.wait_for(lambda: states.append(emulator.get("/server/info").result["klippy_state"])
                          or states[-1] == "ready")
        self.assertEqual(states[0], "disconnected")
        self.assertIn("startup", states)

    def test_a5_printer_info_fields(self):
        emulator = self.start()
        info = emulator.get("/printer/info").result
        for field in ("state", "state_message", "hostname", "klipper_path", "python_path", "process_id",
                      "log_file", "config_file", "software_version", "cpu_info"):
            self.assertIn(field, info)
        self.assertEqual(info["state"], "ready")

    def test_a5_emergency_stop_ok_then_shutdown_until_firmware_restart(self):
        emulator = self.start({"klippy": {"restart_seconds": 0.1}})
        self.assertEqual(emulator.post("/printer/emergency_stop").result, "ok")
        self.assertEqual(emulator.get("/server/info").result["klippy_state"], "shutdown")
        self.assertEqual(emulator.gcode("G28").status, 400)
        emulator.post("/printer/restart")
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "shutdown")
        self.assertEqual(emulator.gcode("G28").status, 400)
        emulator.post("/printer/firmware_restart")
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "ready")
        self.assertEqual(emulator.gcode("G28").result, "ok")

    def test_a5_emergency_stop_job_in_progress_recorded_klippy_shutdown(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.wait_history(emulator, "ipp/job-0001.gcode", "in_progress")
        emulator.post("/printer/emergency_stop")
        self.assertEqual(emulator.get("/server/history/list").result["jobs"][0]["status"], "klippy_shutdown")

    def test_a5_gcode_script_runs_any_gcode_and_is_recorded(self):
        emulator = self.start({"printer_cfg": {"gcode_macro PARK": {"gcode": "G28\nG1 Z10"}}})
        self.assertEqual(emulator.gcode("PARK\nSET_VELOCITY_LIMIT VELOCITY=900").result, "ok")
        toolhead = emulator.query("toolhead")["toolhead"]
        self.assertEqual((toolhead["max_velocity"], toolhead["position"][2]), (900.0, 10.0))
        scripts = emulator.state()["gcode_scripts"]
        self.assertEqual([entry["script"] for entry in scripts], ["PARK\nSET_VELOCITY_LIMIT VELOCITY=900"])

    def test_a5_metadata_fields_and_job_id_after_print(self):
        emulator = self.start()
        text = ("; generated by PrusaSlicer 2.7.1+linux on 2026-01-01 at 10:00:00 UTC\nG28\nG1 Z0.2 F600\n"
                "; filament used [mm] = 123.45\n; estimated printing time (normal mode) = 1h 2m 3s\n")
        emulator.upload("meta.gcode", text.encode())
        metadata = emulator.get("/server/files/metadata?filename=meta.gcode").result
        for field in ("size", "modified", "uuid", "slicer", "estimated_time", "filament_total", "object_height"):
            self.assertIn(field, metadata)
        self.assertEqual((metadata["slicer"], metadata["estimated_time"], metadata["filament_total"]),
                         ("PrusaSlicer", 3723.0, 123.45))
        self.assertNotIn("job_id", metadata)
        emulator.post("/printer/print/start?filename=meta.gcode")
        self.wait_history(emulator, "meta.gcode", "completed")
        metadata = emulator.get("/server/files/metadata?filename=meta.gcode").result
        self.assertEqual(metadata["job_id"], "000001")
        self.assertIn("print_start_time", metadata)

    def test_a5_metadata_unknown_slicer_basics(self):
        emulator = self.start()
        emulator.upload("plain.gcode", b"G28\nG1 Z1\n")
        metadata = emulator.get("/server/files/metadata?filename=plain.gcode").result
        self.assertEqual(metadata["slicer"], "Unknown")
        self.assertNotIn("estimated_time", metadata)
        self.assertNotIn("filament_total", metadata)
        self.assertEqual(emulator.get("/server/files/metadata?filename=nope.gcode").status, 404)

    def test_a5_history_list_fields_and_parameters(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.3}})
        for name in ("one.gcode", "two.gcode"):
            emulator.upload_and_start(name, "G28\n")
            self.wait_history(emulator, name, "completed")
        listing = emulator.get("/server/history/list?limit=1&start=0&order=asc").result
        self.assertEqual(listing["count"], 1)
        job = listing["jobs"][0]
        self.assertEqual(set(job), {"job_id", "user", "filename", "exists", "status", "start_time", "end_time",
                                    "print_duration", "total_duration", "filament_used", "metadata",
                                    "auxiliary_data"})
        self.assertEqual(job["filename"], "one.gcode")
        newest = emulator.get("/server/history/list").result["jobs"][0]
        self.assertEqual(newest["filename"], "two.gcode")
        self.assertEqual(emulator.get(f"/server/history/list?since={time.time() + 60}").result["count"], 0)
        self.assertEqual(emulator.get(f"/server/history/list?before={time.time() + 60}").result["count"], 2)

    def test_a5_history_job_by_uid(self):
        emulator = self.start()
        emulator.upload_and_start("one.gcode", "G28\n")
        self.wait_history(emulator, "one.gcode", "completed")
        job = emulator.get("/server/history/job?uid=000001").result["job"]
        self.assertEqual((job["job_id"], job["status"], job["user"]), ("000001", "completed", "_API_KEY_USER_"))
        self.assertEqual(emulator.get("/server/history/job?uid=0000FF").status, 404)

    def test_a5_history_status_values(self):
        emulator = self.start()
        emulator.upload_and_start("ok.gcode", "M117 one\n")
        self.wait_history(emulator, "ok.gcode", "completed")
        emulator.control("set_timeline", values={"bytes_per_second": 0})
        self.start_frozen_print(emulator, "cancel.gcode")
        self.wait_history(emulator, "cancel.gcode", "in_progress")
        emulator.post("/printer/print/cancel")
        self.wait_history(emulator, "cancel.gcode", "cancelled")
        emulator.upload_and_start("fail.gcode", "M28\n")
        self.wait_history(emulator, "fail.gcode", "error")

    def test_a5_delete_file_200_action_delete_file(self):
        emulator = self.start()
        emulator.upload("gone.gcode", b"G28\n", path="ipp")
        reply = emulator.delete("/server/files/gcodes/ipp/gone.gcode")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.result["action"], "delete_file")
        self.assertEqual((reply.result["item"]["path"], reply.result["item"]["root"]), ("ipp/gone.gcode", "gcodes"))
        self.assertEqual(emulator.get("/server/files/list").result, [])

    def test_a5_delete_while_printing_403_forbidden(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.wait_history(emulator, "ipp/job-0001.gcode", "in_progress")
        reply = emulator.delete("/server/files/gcodes/ipp/job-0001.gcode")
        self.assert_error(reply, 403, "Forbidden")
        self.assertIn("File currently in use", reply.error["traceback"])

    def test_a5_delete_missing_file_400_invalid_file_path(self):
        emulator = self.start()
        reply = emulator.delete("/server/files/gcodes/missing.gcode")
        self.assert_error(reply, 400, "Bad Request")
        self.assertIn("Invalid file path: gcodes/missing.gcode", reply.error["traceback"])

    def test_a5_no_server_files_delete_route_delete_file_is_jsonrpc(self):
        emulator = self.start()
        emulator.upload("x.gcode", b"G28\n")
        self.assertEqual(emulator.post("/server/files/delete", json_body={"path": "gcodes/x.gcode"}).status, 404)
        over_http = emulator.jsonrpc("server.files.delete_file", {"path": "gcodes/x.gcode"})
        self.assertEqual(over_http.json["error"]["code"], -32601)
        websocket = emulator.websocket(headers={"X-Api-Key": emulator.api_key})
        self.addCleanup(websocket.close)
        answer = websocket.call("server.files.delete_file", {"path": "gcodes/x.gcode"})
        self.assertEqual(answer["result"]["action"], "delete_file")

    def test_a5_config_root_writable_by_default(self):
        emulator = self.start()
        reply = emulator.delete("/server/files/config/printer.cfg")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.result["item"]["path"], "printer.cfg")

    def test_a5_config_write_access_disabled(self):
        emulator = self.start({"moonraker_conf": {"file_manager": {"enable_config_write_access": False}}})
        self.assert_error(emulator.delete("/server/files/config/printer.cfg"), 405, "Method Not Allowed")
        self.assertEqual(emulator.upload("x.cfg", b"", root="config").status, 400)
        config = emulator.get("/server/config").result["config"]["file_manager"]
        self.assertFalse(config["enable_config_write_access"])


# ---------------------------------------------------------------------- A6 websocket

class A6Websocket(EmulatorTestCase):
    """Reference A6: websocket JSON-RPC, identify, subscriptions, notifications."""

    def open_websocket(self, emulator, **options):
        """Open a websocket that is closed when the test ends."""
        websocket = emulator.websocket(**options)
        self.addCleanup(websocket.close)
        return websocket

    def test_a6_websocket_upgrade_with_api_key_header(self):
        emulator = self.start()
        authorized = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        self.assertIn("HTTP/1.1 101", authorized.status_line)
        self.assertEqual(authorized.call("printer.info")["result"]["state"], "ready")
        anonymous = self.open_websocket(emulator)
        self.assertEqual(anonymous.call("printer.info")["error"], {"code": -32602, "message": "Unauthorized"})

    def test_a6_websocket_oneshot_token_query(self):
        emulator = self.start()
        token = emulator.get("/access/oneshot_token").result
        websocket = self.open_websocket(emulator, query=f"?token={token}")
        self.assertIn("result", websocket.call("server.info"))

    def test_a6_identify_with_api_key_or_access_token(self):
        emulator = self.start({"users": [{"username": "operator", "password": "secret"}]})
        by_key = self.open_websocket(emulator)
        answer = by_key.call("server.connection.identify", {"client_name": "ipp3d", "version": "0.1",
                                                            "type": "agent", "url": "x", "api_key": emulator.api_key})
        self.assertIsInstance(answer["result"]["connection_id"], int)
        self.assertIn("result", by_key.call("printer.info"))
        token = emulator.post("/access/login", json_body={"username": "operator", "password": "secret"},
                              auth=False).result["token"]
        by_token = self.open_websocket(emulator)
        by_token.call("server.connection.identify", {"client_name": "other", "version": "0.1", "type": "other",
                                                     "url": "x", "access_token": token})
        self.assertIn("result", by_token.call("printer.info"))

    def test_a6_identify_only_once_per_connection(self):
        emulator = self.start()
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        params = {"client_name": "ipp3d", "version": "0.1", "type": "other", "url": "x"}
        self.assertIn("result", websocket.call("server.connection.identify", params))
        again = websocket.call("server.connection.identify", params)
        self.assertEqual(again["error"]["code"], 400)
        self.assertTrue(again["error"]["message"].startswith("Connection already identified"))

    def test_a6_only_one_agent_per_client_name(self):
        emulator = self.start()
        params = {"client_name": "ipp3d", "version": "0.1", "type": "agent", "url": "x"}
        first = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        self.assertIn("result", first.call("server.connection.identify", params))
        second = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        answer = second.call("server.connection.identify", params)
        self.assertEqual(answer["error"]["message"], "Agent 'ipp3d' already registered and connected")
        third = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        self.assertIn("result", third.call("server.connection.identify", dict(params, type="other")))

    def test_a6_subscribe_snapshot_then_changed_fields_only(self):
        emulator = self.start(FROZEN)
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        snapshot = websocket.call("printer.objects.subscribe",
                                  {"objects": {"print_stats": None, "webhooks": None}})["result"]
        self.assertEqual(snapshot["status"]["print_stats"]["state"], "standby")
        self.assertIn("state_message", snapshot["status"]["webhooks"])
        self.start_frozen_print(emulator)
        update = websocket.wait_notification(
            "notify_status_update", predicate=lambda message: "state" in message["params"][0].get("print_stats", {}))
        changed, eventtime = update["params"]
        self.assertEqual(changed["print_stats"]["state"], "printing")
        self.assertNotIn("webhooks", changed)
        self.assertNotIn("message", changed["print_stats"])
        self.assertIsInstance(eventtime, float)

    def test_a6_new_subscribe_replaces_old(self):
        emulator = self.start(FROZEN)
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        websocket.call("printer.objects.subscribe", {"objects": {"print_stats": None}})
        websocket.call("printer.objects.subscribe", {"objects": {"webhooks": ["state"]}})
        self.start_frozen_print(emulator)
        emulator.post("/printer/emergency_stop")
        update = websocket.wait_notification("notify_status_update")
        self.assertEqual(update["params"][0], {"webhooks": {"state": "shutdown"}})
        time.sleep(1.5 * HISTORY_TICK)
        for message in websocket.pending:
            if message.get("method") == "notify_status_update":
                self.assertNotIn("print_stats", message["params"][0])

    def test_a6_notify_klippy_ready_shutdown_disconnected(self):
        emulator = self.start({"klippy": {"restart_seconds": 0.1}})
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        emulator.post("/printer/emergency_stop")
        websocket.wait_notification("notify_klippy_shutdown")
        emulator.post("/printer/firmware_restart")
        websocket.wait_notification("notify_klippy_disconnected")
        websocket.wait_notification("notify_klippy_ready")

    def test_a6_notify_history_changed_added_and_finished(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.35}})
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        emulator.upload_and_start("watched.gcode", "G28\n")
        added = websocket.wait_notification("notify_history_changed")
        finished = websocket.wait_notification("notify_history_changed")
        self.assertEqual(added["params"][0]["action"], "added")
        self.assertEqual(finished["params"][0]["action"], "finished")
        self.assertEqual(finished["params"][0]["job"]["status"], "completed")
        self.assertEqual(finished["params"][0]["job"]["filename"], "watched.gcode")

    def test_a6_notify_gcode_response_errors_start_with_bangs(self):
        emulator = self.start(FROZEN)
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        self.start_frozen_print(emulator)
        emulator.post("/printer/print/start?filename=ipp/job-0001.gcode")
        websocket.wait_notification("notify_gcode_response", predicate=lambda m: m["params"] == ["!! SD busy"])

    def test_a6_notify_filelist_changed(self):
        emulator = self.start()
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        emulator.upload("new.gcode", b"G28\n", path="ipp")
        change = websocket.wait_notification("notify_filelist_changed")["params"][0]
        self.assertEqual((change["action"], change["item"]["path"], change["item"]["root"]),
                         ("create_file", "ipp/new.gcode", "gcodes"))

    def test_a6_notify_proc_stat_update_about_once_a_second(self):
        emulator = self.start()
        websocket = self.open_websocket(emulator, headers={"X-Api-Key": emulator.api_key})
        websocket.wait_notification("notify_proc_stat_update", timeout=2.0)


# ---------------------------------------------------------------------- A7 authorization and TLS

class A7Authorization(EmulatorTestCase):
    """Reference A7: order of authorization checks, API key, JWT, oneshot tokens, trusted clients, TLS."""

    def test_a7_jwt_bearer_x_access_token_or_query_parameter(self):
        emulator = self.start()
        token = emulator.post("/access/user", json_body={"username": "op", "password": "pw"}).result["token"]
        self.assertEqual(emulator.get("/server/info", auth=False,
                                      headers={"Authorization": f"Bearer {token}"}).status, 200)
        self.assertEqual(emulator.get("/server/info", auth=False, headers={"X-Access-Token": token}).status, 200)
        self.assertEqual(emulator.get(f"/server/info?access_token={token}", auth=False).status, 200)
        broken = emulator.get("/server/info", headers={"Authorization": f"Bearer {token}x"})
        self.assertEqual(broken.status, 401)

    def test_a7_oneshot_token_once_ip_bound_and_expires_after_5_seconds(self):
        emulator = self.start()
        token = emulator.get("/access/oneshot_token").result
        self.assertEqual(emulator.get(f"/server/info?token={token}", auth=False).status, 200)
        self.assertEqual(emulator.get(f"/server/info?token={token}", auth=False).status, 401)
        late_token = emulator.get("/access/oneshot_token").result
        issued = time.monotonic()
        other_ip_token = emulator.get("/access/oneshot_token").result
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5,
                                                source_address=("127.0.0.2", 0))
        connection.request("GET", f"/server/info?token={other_ip_token}")
        self.assertEqual(connection.getresponse().status, 401)
        connection.close()
        time.sleep(max(0.0, issued + 5.1 - time.monotonic()))
        self.assertEqual(emulator.get(f"/server/info?token={late_token}", auth=False).status, 401)

    def test_a7_api_key_header_unless_enable_api_key_off(self):
        emulator = self.start({"moonraker_conf": {"authorization": {"enable_api_key": False}}})
        self.assertEqual(emulator.get("/server/info").status, 401)

    def test_a7_force_logins_with_a_user_refuses_trusted_clients_not_api_key(self):
        emulator = self.start({"moonraker_conf": {"authorization": {"trusted_clients": ["127.0.0.0/8"],
                                                                    "force_logins": True}},
                               "users": [{"username": "op", "password": "pw"}]})
        self.assert_error(emulator.get("/server/info", auth=False), 401, "Unauthorized")
        self.assertEqual(emulator.get("/server/info").status, 200)
        emulator.delete("/access/user?username=op")
        self.assertEqual(emulator.get("/server/info", auth=False).status, 200)

    def test_a7_trusted_clients_ips_cidr_ranges_and_domains(self):
        for entries, expected in ((["192.168.0.0/16"], 401), (["0.0.0.0/0"], 200), (["127.0.0.1"], 200),
                                  (["localhost"], 200)):
            emulator = self.start({"moonraker_conf": {"authorization": {"trusted_clients": entries}}})
            self.assertEqual(emulator.get("/server/info", auth=False).status, expected, entries)

    def test_a7_api_key_is_32_hex_get_returns_it_post_rotates_it(self):
        emulator = self.start()
        self.assertRegex(emulator.api_key, r"^[0-9a-f]{32}$")
        self.assertEqual(emulator.get("/access/api_key").result, emulator.api_key)
        rotated = emulator.post("/access/api_key").result
        self.assertNotEqual(rotated, emulator.api_key)
        self.assertEqual(emulator.get("/server/info").status, 401)
        self.assertEqual(emulator.get("/server/info", headers={"X-Api-Key": rotated}).status, 200)

    def test_a7_login_returns_eddsa_token_valid_one_hour_and_refresh(self):
        emulator = self.start({"users": [{"username": "op", "password": "pw"}]})
        self.assert_error(emulator.post("/access/login", json_body={"username": "op", "password": "no"},
                                        auth=False), 400, "Invalid Password")
        login = emulator.post("/access/login", json_body={"username": "op", "password": "pw"}, auth=False).result
        self.assertEqual(login["action"], "user_logged_in")
        header, payload, _ = login["token"].split(".")
        header = json.loads(eddsa.base64url_decode(header))
        payload = json.loads(eddsa.base64url_decode(payload))
        self.assertEqual((header["alg"], header["typ"]), ("EdDSA", "JWT"))
        self.assertEqual((payload["exp"] - payload["iat"], payload["token_type"], payload["aud"]),
                         (3600, "access", "Moonraker"))
        refreshed = emulator.post("/access/refresh_jwt", json_body={"refresh_token": login["refresh_token"]},
                                  auth=False).result
        self.assertEqual(refreshed["action"], "user_jwt_refresh")
        self.assertEqual(emulator.get("/server/info", auth=False,
                                      headers={"Authorization": "Bearer " + refreshed["token"]}).status, 200)

    @unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
    def test_a7_tls_served_in_addition_to_plain_http(self):
        certs = tempfile.TemporaryDirectory()
        self.addCleanup(certs.cleanup)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(certs.name, "moonraker.key"),
                        "-out", os.path.join(certs.name, "moonraker.cert")], check=True, capture_output=True)
        emulator = self.start(extra_args=["--certs-dir", certs.name, "--ssl-port", "0"])
        ssl_port = emulator.get("/server/config").result["config"]["server"]["ssl_port"]
        context = ssl.create_default_context(cafile=os.path.join(certs.name, "moonraker.cert"))
        connection = http.client.HTTPSConnection("127.0.0.1", ssl_port, timeout=5, context=context)
        connection.request("GET", "/server/info", headers={"X-Api-Key": emulator.api_key})
        self.assertEqual(connection.getresponse().status, 200)
        connection.close()
        self.assertEqual(emulator.get("/server/info").status, 200)


# ---------------------------------------------------------------------- A8 G-code safety on the Klipper side

def rpc_error(emulator, script):
    """Return the full error message of a G-code script sent over JSON-RPC."""
    return emulator.jsonrpc("printer.gcode.script", {"script": script}).json["error"]["message"]


class A8GCodeSafety(EmulatorTestCase):
    """Reference A8: what Klipper enforces and what a file can still reach."""

    def test_a8_file_lines_go_through_the_dispatcher_and_can_call_any_macro(self):
        emulator = self.start({"printer_cfg": {"gcode_macro START_PRINT": {"gcode": "M117 started by macro"}}})
        emulator.upload_and_start("macro.gcode", "START_PRINT\nNOT_A_COMMAND\n")
        emulator.wait_state("complete")
        self.assertEqual(emulator.query("display_status")["display_status"]["message"], "started by macro")

    def test_a8_heater_min_temp_max_temp_enforced(self):
        emulator = self.start()
        self.assertEqual(rpc_error(emulator, "M104 S300"), "Requested temperature (300.0) out of range (0.0:250.0)")
        self.assertEqual(rpc_error(emulator, "M140 S200"), "Requested temperature (200.0) out of range (0.0:120.0)")
        self.assertEqual(emulator.gcode("M104 S200").result, "ok")

    def test_a8_position_limits_and_must_home_axis_first(self):
        emulator = self.start()
        self.assertEqual(rpc_error(emulator, "G1 X10"), "Must home axis first: 10.000 0.000 0.000 [0.000]")
        emulator.gcode("G28")
        self.assertEqual(rpc_error(emulator, "G1 X300"), "Move out of range: 300.000 0.000 0.000 [0.000]")
        self.assertEqual(emulator.gcode("G1 X100").result, "ok")

    def test_a8_extruder_min_extrude_temp(self):
        emulator = self.start()
        emulator.gcode("G28")
        self.assertEqual(emulator.gcode("G1 X10 E1").error["message"], "Unknown")
        self.assertTrue(rpc_error(emulator, "G1 X10 E1").startswith("Extrude below minimum temp\n"))

    def test_a8_extruder_max_extrude_only_distance(self):
        emulator = self.start({"timeline": {"heating_rate": 2000}})
        emulator.gcode("G28\nM109 S200")
        self.assertTrue(rpc_error(emulator, "G1 E60").startswith("Extrude only move too long (60.000mm vs 50.000mm)\n"))

    def test_a8_extruder_max_extrude_cross_section(self):
        emulator = self.start({"timeline": {"heating_rate": 2000}})
        emulator.gcode("G28\nM109 S200")
        self.assertTrue(rpc_error(emulator, "G1 X10 E5").startswith(
            "Move exceeds maximum extrusion (1.203mm^2 vs 0.640mm^2)\n"))

    def test_a8_force_move_only_with_enable_force_move(self):
        emulator = self.start()
        emulator.gcode("SET_KINEMATIC_POSITION X=10 Y=10 Z=10")
        self.assertEqual(emulator.query("toolhead")["toolhead"]["homed_axes"], "")
        enabled = self.start({"printer_cfg": {"force_move": {"enable_force_move": True}}})
        enabled.gcode("SET_KINEMATIC_POSITION X=10 Y=10 Z=10")
        toolhead = enabled.query("toolhead")["toolhead"]
        self.assertEqual((toolhead["homed_axes"], toolhead["position"][:3]), ("xyz", [10.0, 10.0, 10.0]))

    def test_a8_failing_line_ends_print_in_error_and_on_error_gcode_turns_heaters_off(self):
        emulator = self.start()
        emulator.upload_and_start("fails.gcode", "G28\nM104 S200\nM140 S60\nM28\nG1 X10\n")
        stats = emulator.wait_state("error")
        self.assertEqual(stats["message"], "SD write not supported")
        status = emulator.query("extruder", "heater_bed")
        self.assertEqual((status["extruder"]["target"], status["heater_bed"]["target"]), (0.0, 0.0))
        commands = [(entry["origin"], entry["command"]) for entry in emulator.state()["klipper_commands"]]
        self.assertIn(("on_error_gcode", "TURN_OFF_HEATERS"), commands)

    def test_a8_save_config_rewrites_printer_cfg_and_restarts(self):
        emulator = self.start({"klippy": {"restart_seconds": 0.1}})
        def printer_cfg_modified():
            """Return printer.cfg's modification time from the config root listing."""
            files = emulator.get("/server/files/directory?path=config").result["files"]
            return next(entry["modified"] for entry in files if entry["filename"] == "printer.cfg")
        before = printer_cfg_modified()
        time.sleep(0.05)
        self.assert_error(emulator.gcode("SAVE_CONFIG"), 503, "Klippy Disconnected")
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "ready")
        self.assertGreater(printer_cfg_modified(), before)

    def test_a8_restart_mid_file_kills_job_recorded_klippy_disconnect(self):
        emulator = self.start({"timeline": {"homing_seconds": 0.35}, "klippy": {"restart_seconds": 0.1}})
        emulator.upload_and_start("restart.gcode", "G28\nRESTART\nG1 X10\n")
        job = self.wait_history(emulator, "restart.gcode", "klippy_disconnect")
        self.assertEqual(job["filename"], "restart.gcode")
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "ready")
        stats = emulator.print_stats()
        self.assertEqual((stats["state"], stats["filename"]), ("standby", ""))

    def test_a8_m112_is_an_emergency_stop(self):
        emulator = self.start()
        emulator.gcode("M112")
        webhooks = emulator.query("webhooks")["webhooks"]
        self.assertEqual(webhooks["state"], "shutdown")
        self.assertTrue(webhooks["state_message"].startswith("Shutdown due to M112 command"))

    def test_a8_set_velocity_limit_raises_beyond_config_only_checks_positive(self):
        emulator = self.start()
        self.assertEqual(emulator.gcode("SET_VELOCITY_LIMIT VELOCITY=5000 ACCEL=100000").result, "ok")
        status = emulator.query("toolhead", "configfile")
        self.assertEqual((status["toolhead"]["max_velocity"], status["toolhead"]["max_accel"]), (5000.0, 100000.0))
        self.assertEqual(status["configfile"]["settings"]["printer"]["max_velocity"], 300.0)
        self.assert_error(emulator.gcode("SET_VELOCITY_LIMIT VELOCITY=0"), 400,
                          "Error on 'SET_VELOCITY_LIMIT VELOCITY=0': VELOCITY must be above 0.0")

    def test_a8_m28_m29_m30_rejected_sd_write_not_supported(self):
        emulator = self.start()
        for command in ("M28 x.gcode", "M29", "M30 x.gcode"):
            self.assert_error(emulator.gcode(command), 400, "SD write not supported")

    def test_a8_set_pin_changes_output_pin_state(self):
        emulator = self.start({"printer_cfg": {"output_pin relay": {"pin": "PA1"}}})
        emulator.gcode("SET_PIN PIN=relay VALUE=1")
        self.assertEqual(emulator.query("output_pin relay")["output_pin relay"], {"value": 1.0})

    def test_a8_run_shell_command_only_with_gcode_shell_command_sections(self):
        emulator = self.start()
        self.assertEqual(emulator.gcode("RUN_SHELL_COMMAND CMD=backup").result, "ok")
        self.assertEqual(emulator.state()["shell_commands"], [])
        configured = self.start({"printer_cfg": {"gcode_shell_command backup": {"command": "/bin/true"}}})
        self.assertEqual(configured.gcode("RUN_SHELL_COMMAND CMD=backup PARAMS=--all").result, "ok")
        self.assertEqual([(entry["name"], entry["params"]) for entry in configured.state()["shell_commands"]],
                         [("backup", "--all")])
        self.assert_error(configured.gcode("RUN_SHELL_COMMAND CMD=nope"), 400, "The value 'nope' is not valid for CMD")

    def test_a8_respond_section_enables_m118(self):
        for scenario, expected in (({"printer_cfg": {"respond": {}}}, "echo: hello"),
                                   (None, '// Unknown command:"M118"')):
            emulator = self.start(scenario)
            websocket = emulator.websocket(headers={"X-Api-Key": emulator.api_key})
            self.addCleanup(websocket.close)
            emulator.gcode("M118 hello")
            websocket.wait_notification("notify_gcode_response", predicate=lambda m: m["params"] == [expected])

    def test_a8_configfile_settings_show_limits_and_macro_renames(self):
        emulator = self.start({"printer_cfg": {
            "printer": {"max_velocity": 250, "max_accel": 2500, "square_corner_velocity": 4.0},
            "stepper_x": {"position_min": -5, "position_max": 200},
            "extruder": {"min_temp": 5, "max_temp": 280},
            "heater_bed": {"max_temp": 100},
            "gcode_macro M109": {"rename_existing": "M109.1", "gcode": "M109.1 {rawparams}"}}})
        configfile = emulator.query("configfile")["configfile"]
        settings = configfile["settings"]
        self.assertEqual((settings["printer"]["max_velocity"], settings["printer"]["max_accel"],
                          settings["printer"]["square_corner_velocity"]), (250.0, 2500.0, 4.0))
        self.assertEqual((settings["stepper_x"]["position_min"], settings["stepper_x"]["position_max"]),
                         (-5.0, 200.0))
        self.assertEqual((settings["extruder"]["min_temp"], settings["extruder"]["max_temp"]), (5.0, 280.0))
        self.assertEqual(settings["heater_bed"]["max_temp"], 100.0)
        self.assertEqual(settings["gcode_macro m109"]["rename_existing"], "M109.1")
        self.assertEqual(configfile["config"]["gcode_macro M109"]["rename_existing"], "M109.1")


# ---------------------------------------------------------------------- emulator timeline and faults

class EmulatorTimelineAndFaults(EmulatorTestCase):
    """The emulator's print timeline and injected faults (README 'Control API')."""

    def test_emulator_timeline_progress_layers_heating_and_complete(self):
        emulator = self.start({"timeline": {"bytes_per_second": 1200, "heating_rate": 1000}})
        layer = "G1 X20 Y20 E1\nG1 X40 Y20 E2\nG1 X40 Y40 E3\n" + "M117 printing\n" * 6
        text = ("M140 S60\nM104 S200\nM190 S60\nM109 S200\nG28\nG1 Z0.3\nSET_PRINT_STATS_INFO TOTAL_LAYER=2\n"
                "SET_PRINT_STATS_INFO CURRENT_LAYER=1\nM83\n" + layer + "SET_PRINT_STATS_INFO CURRENT_LAYER=2\n"
                "G1 Z0.6\n" + layer)
        emulator.upload_and_start("timeline.gcode", text)
        first = emulator.wait_for(lambda: (lambda s: s if s["print_stats"]["info"]["current_layer"] == 1 else None)(
            emulator.query("print_stats", "virtual_sdcard", "extruder", "heater_bed")))
        self.assertEqual(first["extruder"]["temperature"], 200.0)
        self.assertEqual(first["heater_bed"]["temperature"], 60.0)
        self.assertTrue(0.0 < first["virtual_sdcard"]["progress"] < 1.0)
        emulator.wait_for(lambda: emulator.print_stats()["info"]["current_layer"] == 2)
        stats = emulator.wait_state("complete")
        self.assertEqual(stats["filament_used"], 12.0)
        self.assertEqual(emulator.query("virtual_sdcard")["virtual_sdcard"]["progress"], 1.0)

    def test_emulator_final_line_without_newline_is_not_run(self):
        emulator = self.start()
        emulator.upload_and_start("unterminated.gcode", "G28\nM117 last")
        emulator.wait_state("complete")
        status = emulator.query("display_status", "virtual_sdcard")
        self.assertIsNone(status["display_status"]["message"])
        self.assertLess(status["virtual_sdcard"]["progress"], 1.0)

    def test_emulator_refuse_connections_then_listen_again(self):
        emulator = self.start()
        self.assertEqual(emulator.control("refuse_connections", seconds=0.4).status, 200)
        time.sleep(0.15)
        with self.assertRaises(urllib.error.URLError) as raised:
            emulator.get("/server/info")
        self.assertIsInstance(raised.exception.reason, ConnectionRefusedError)
        emulator.wait_for(lambda: self._reachable(emulator), timeout=3)

    @staticmethod
    def _reachable(emulator):
        try:
            return emulator.get("/server/info").status == 200
        except urllib.error.URLError:
            return False

    def test_emulator_klippy_connects_later(self):
        emulator = self.start({"klippy": {"connected": False, "connect_after_seconds": 0.3}})
        self.assertFalse(emulator.get("/server/info").result["klippy_connected"])
        emulator.wait_for(lambda: emulator.get("/server/info").result["klippy_state"] == "ready")
        self.assertEqual(emulator.get("/printer/info").status, 200)

    def test_emulator_shutdown_mid_print_with_multiline_message(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        message = "MCU 'mcu' shutdown: Timer too close\nThe host is overloaded.\nPrinter is shutdown\n"
        emulator.control("klippy_shutdown", message=message)
        self.assertEqual(emulator.query("webhooks")["webhooks"], {"state": "shutdown", "state_message": message})
        self.assertEqual(emulator.get("/printer/info").result["state"], "shutdown")
        self.assert_error(emulator.post("/printer/print/resume"), 400, "Unknown")

    def test_emulator_error_mid_print(self):
        emulator = self.start({"timeline": {"bytes_per_second": 0}})
        self.start_frozen_print(emulator)
        emulator.control("print_error", message="Heater extruder not heating at expected rate")
        emulator.control("set_timeline", values={"bytes_per_second": 1000})
        stats = emulator.wait_state("error")
        self.assertEqual(stats["message"], "Heater extruder not heating at expected rate")
        self.assertEqual(emulator.control("print_error", message="x").status, 409)

    def test_emulator_our_file_removed_mid_print(self):
        emulator = self.start({"timeline": {"bytes_per_second": 150, "heating_rate": 2000}})
        emulator.upload_and_start("ipp/removed.gcode", HOMED_PRINT)
        self.wait_history(emulator, "ipp/removed.gcode", "in_progress")
        self.assertEqual(emulator.control("remove_file", path="ipp/removed.gcode").status, 200)
        self.assertEqual(emulator.get("/server/files/list").result, [])
        self.assertEqual(emulator.get("/server/files/metadata?filename=ipp/removed.gcode").status, 404)
        job = self.wait_history(emulator, "ipp/removed.gcode", "completed")
        self.assertFalse(job["exists"])

    def test_emulator_filament_runout_pause(self):
        emulator = self.start(FROZEN)
        self.start_frozen_print(emulator)
        self.assertEqual(emulator.control("filament_runout").status, 200)
        status = emulator.query("print_stats", "pause_resume", "display_status", "filament_switch_sensor runout")
        self.assertEqual(status["print_stats"]["state"], "paused")
        self.assertTrue(status["pause_resume"]["is_paused"])
        self.assertEqual(status["display_status"]["message"], "Filament runout")
        self.assertFalse(status["filament_switch_sensor runout"]["filament_detected"])

    def test_emulator_macro_renaming_m109_runs_the_macro(self):
        emulator = self.start({"timeline": {"heating_rate": 2000}, "printer_cfg": {"gcode_macro M109": {
            "rename_existing": "M109.1", "gcode": "M117 waiting in macro\nM109.1 {rawparams}"}}})
        self.assertEqual(emulator.gcode("M109 S200").result, "ok")
        status = emulator.query("display_status", "extruder")
        self.assertEqual(status["display_status"]["message"], "waiting in macro")
        self.assertEqual(status["extruder"]["temperature"], 200.0)
        commands = [entry["command"] for entry in emulator.state()["klipper_commands"]]
        self.assertEqual(commands, ["M109 S200", "M117 waiting in macro", "M109.1 S200"])

    def test_emulator_state_records_what_reached_the_printer(self):
        emulator = self.start(FROZEN)
        untouched = emulator.state()
        self.assertEqual((untouched["uploads"], untouched["klipper_commands"], untouched["gcode_scripts"]),
                         ([], [], []))
        emulator.upload("rec.gcode", HOMED_PRINT.encode(), checksum=None)
        emulator.post("/printer/print/start?filename=rec.gcode")
        emulator.post("/printer/print/pause")
        emulator.post("/printer/print/cancel")
        emulator.gcode("TURN_OFF_HEATERS")
        emulator.post("/printer/emergency_stop")
        state = emulator.state()
        upload = state["uploads"][0]
        self.assertEqual((upload["filename"], upload["size"], upload["status"]),
                         ("rec.gcode", len(HOMED_PRINT), 201))
        self.assertRegex(upload["sha256"], r"^[0-9a-f]{64}$")
        self.assertEqual([call["action"] for call in state["printer_calls"]],
                         ["print_start", "print_pause", "print_cancel", "emergency_stop"])
        self.assertEqual([entry["script"] for entry in state["gcode_scripts"]], ["TURN_OFF_HEATERS"])
        self.assertEqual(state["klippy"]["state"], "shutdown")

    def test_emulator_server_config_reports_upload_limit_authorization_and_file_manager(self):
        emulator = self.start({"moonraker_conf": {"server": {"max_upload_size": 2},
                                                  "authorization": {"trusted_clients": ["192.168.0.0/16"],
                                                                    "force_logins": True}}})
        result = emulator.get("/server/config").result
        config = result["config"]
        self.assertEqual(config["server"]["max_upload_size"], 2)
        self.assertEqual(config["server"]["port"], emulator.port)
        self.assertEqual(config["authorization"]["trusted_clients"], ["192.168.0.0/16"])
        self.assertTrue(config["authorization"]["force_logins"])
        self.assertTrue(config["file_manager"]["enable_config_write_access"])
        self.assertEqual(result["orig"]["authorization"]["trusted_clients"], "\n  192.168.0.0/16")
        self.assertEqual(result["files"][0]["filename"], "moonraker.conf")

    def test_emulator_directory_listing_with_disk_usage(self):
        emulator = self.start()
        emulator.upload("job.gcode", b"G28\n", path="ipp")
        listing = emulator.get("/server/files/directory?path=gcodes/ipp&extended=true").result
        self.assertEqual([entry["filename"] for entry in listing["files"]], ["job.gcode"])
        self.assertEqual(listing["files"][0]["slicer"], "Unknown")
        self.assertEqual(set(listing["disk_usage"]), {"total", "used", "free"})
        self.assertEqual(listing["root_info"], {"name": "gcodes", "permissions": "rw"})

    def test_emulator_webcams_list_from_moonraker_conf(self):
        emulator = self.start({"moonraker_conf": {"webcam door": {"stream_url": "/door/stream", "rotation": 90}}})
        webcams = {webcam["name"]: webcam for webcam in emulator.get("/server/webcams/list").result["webcams"]}
        self.assertEqual(set(webcams), {"front", "door"})
        self.assertEqual((webcams["door"]["stream_url"], webcams["door"]["rotation"], webcams["door"]["source"]),
                         ("/door/stream", 90, "config"))

    def test_emulator_jsonrpc_objects_query(self):
        emulator = self.start()
        reply = emulator.jsonrpc("printer.objects.query", {"objects": {"webhooks": ["state"], "nothing": None}},
                                 request_id=3)
        self.assertEqual(reply.json["id"], 3)
        self.assertEqual(reply.json["result"]["status"], {"webhooks": {"state": "ready"}})

    def test_emulator_refuses_non_loopback_host(self):
        for host in ("0.0.0.0", "192.168.1.10", "example.org"):
            process = subprocess.run([sys.executable, EMULATOR, "--port", "0", "--host", host],
                                     capture_output=True, text=True, timeout=10)
            self.assertEqual(process.returncode, 2, host)
            self.assertEqual(process.stdout, "")
            self.assertIn("non-loopback", process.stderr)

    def test_emulator_sigterm_stops_cleanly(self):
        emulator = Emulator()
        self.assertEqual(emulator.get("/server/info").status, 200)
        self.assertEqual(emulator.stop(), 0)


if __name__ == "__main__":
    unittest.main()
