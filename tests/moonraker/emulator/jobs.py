"""Moonraker's job_state and history components.

Moonraker learns of print_stats changes from Klipper's status updates,
which come at most every 250 ms and carry only fields that changed. The
tracker samples print_stats on that tick, so a job that starts and fails
between two ticks, right after a job that ended in the same state, never
shows a state change and is never recorded in history.
"""

import time

_IDLE_STATES = ("standby", "complete", "cancelled", "error")


class JobTracker:
    """job_state plus history: job events from sampled print_stats, and the history table.

    `print_stats()` returns Klipper's current print_stats; `file_manager`
    provides metadata and file existence; `notify(action, job)` sends
    notify_history_changed.
    """

    def __init__(self, print_stats, file_manager, notify, history_enabled):
        self.print_stats = print_stats
        self.file_manager = file_manager
        self.notify = notify
        self.history_enabled = history_enabled
        self.last_stats = {}
        self.sampling = False
        self.jobs = []
        self.next_job_id = 1
        self.current_job = None
        self.job_user = "No User"

    # ------------------------------------------------------------------ job_state

    def on_klippy_ready(self):
        """Klippy became ready: start from its current print_stats without emitting events."""
        self.last_stats = self.print_stats()
        self.sampling = True

    def on_klippy_shutdown(self):
        """Klippy shut down: the job in progress ends as `klippy_shutdown`."""
        self._finish_job("klippy_shutdown", dict(self.last_stats))

    def on_klippy_disconnect(self):
        """Klippy went away: the job in progress ends as `klippy_disconnect`."""
        if self.last_stats.get("state") in ("printing", "paused"):
            self.last_stats["state"] = "error"
        self.sampling = False
        self._finish_job("klippy_disconnect", dict(self.last_stats))

    def sample(self):
        """One 250 ms tick: compare print_stats.state with the last seen state and emit job events."""
        if not self.sampling:
            return
        stats = self.print_stats()
        old_state = self.last_stats.get("state")
        new_state = stats["state"]
        previous = dict(self.last_stats)
        current = dict(self.last_stats)
        current.update(stats)
        if new_state != old_state:
            if old_state in _IDLE_STATES:
                if new_state == "printing":
                    new_state = "started"
                elif new_state != "standby":
                    self._job_event("started", previous, current)
            elif new_state == "printing":
                resumed = (old_state == "paused" and previous.get("filename") == current["filename"]
                           and previous.get("total_duration", 0.0) < current["total_duration"])
                new_state = "resumed" if resumed else "started"
            self._job_event(new_state, previous, current)
        self.last_stats.update(stats)

    def loaded(self):
        """Return (filename, state) as job_state last saw them."""
        return self.last_stats.get("filename", ""), self.last_stats.get("state", "")

    def note_job_requested(self, username):
        """A print was started through Moonraker by `username` (the job's `user`)."""
        self.job_user = username
        if self.current_job is not None:
            self.current_job["user"] = username

    # ------------------------------------------------------------------ history

    def _job_event(self, event, previous, current):
        if event == "started":
            if self.current_job is not None:
                self._finish_job("cancelled", previous)
            self._add_job(current)
        elif event == "complete":
            self._finish_job("completed", current)
        elif event == "error":
            self._finish_job("error", current)
        elif event in ("cancelled", "standby"):
            self._finish_job("cancelled", previous)

    def _job_metadata(self, filename):
        metadata = dict(self.file_manager.metadata.get(filename, {}))
        metadata.pop("print_start_time", None)
        metadata.pop("job_id", None)
        return metadata

    def _add_job(self, stats):
        if not self.history_enabled:
            return
        job = {
            "job_id": "%06X" % self.next_job_id, "user": self.job_user, "filename": stats.get("filename", ""),
            "status": "in_progress", "start_time": time.time(), "end_time": None,
            "print_duration": 0.0, "total_duration": 0.0, "filament_used": 0.0,
            "metadata": {}, "auxiliary_data": [],
        }
        self.next_job_id += 1
        self._update_from_stats(job, stats)
        job["metadata"] = self._job_metadata(job["filename"])
        self.jobs.append(job)
        self.current_job = job
        self._remember_in_metadata(job)
        self.notify("added", self.prepare(job))

    @staticmethod
    def _update_from_stats(job, stats):
        for key in ("filename", "print_duration", "total_duration", "filament_used"):
            if stats.get(key) is not None:
                job[key] = stats[key]

    def _remember_in_metadata(self, job):
        metadata = self.file_manager.metadata.get(job["filename"])
        if metadata is not None:
            metadata["print_start_time"] = job["start_time"]
            metadata["job_id"] = job["job_id"]

    def _finish_job(self, status, stats):
        job = self.current_job
        if job is None:
            self.job_user = "No User"
            return
        if (stats.get("filename") != job["filename"]
                or stats.get("total_duration", 0.0) < job["total_duration"]):
            stats = {}
        job["user"] = self.job_user
        job["status"] = status
        job["end_time"] = time.time()
        self._update_from_stats(job, stats)
        job["metadata"] = self._job_metadata(job["filename"]) or job["metadata"]
        self._remember_in_metadata(job)
        self.notify("finished", self.prepare(job))
        self.current_job = None
        self.job_user = "No User"

    def prepare(self, job):
        """Return a history job as the API shows it (with `exists`)."""
        result = dict(job)
        result["metadata"] = dict(job["metadata"])
        result["exists"] = self.file_manager.file_exists(job["filename"], job["metadata"].get("modified"))
        return result

    def list_jobs(self, start, limit, since, before, order):
        """Return history jobs filtered and ordered as /server/history/list does."""
        jobs = list(self.jobs)
        if before is not None:
            jobs = [job for job in jobs if job["end_time"] is not None and job["end_time"] < before]
        if since is not None:
            jobs = [job for job in jobs if job["start_time"] > since]
        jobs.sort(key=lambda job: int(job["job_id"], 16), reverse=(order == "DESC"))
        if limit > 0:
            jobs = jobs[start:start + limit]
        return [self.prepare(job) for job in jobs]

    def find_job(self, uid):
        """Return the history job with id `uid` (hex), or None."""
        try:
            number = int(uid, 16)
        except ValueError:
            return None
        for job in self.jobs:
            if int(job["job_id"], 16) == number:
                return job
        return None

    def delete_job(self, uid):
        """Remove a history job; return False when there is none."""
        job = self.find_job(uid)
        if job is None:
            return False
        self.jobs.remove(job)
        return True
