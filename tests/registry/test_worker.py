"""The service's workers take over jobs a dead process of this host left running."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.registry.cms import ARTICLE, AUTH, put, register, wait_job
from tts_service.registry.store import ArticleStore
from tts_service.registry.worker import _dead_owners, machine, worker_owner


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_batch_killed_beside_the_running_service_is_resumed_without_waiting_for_its_lease(
    cms,
):
    client, service = cms
    # Once the workers have read an article, they are idle, asleep until woken or polled.
    first = put(client, "tin-dau", text="Tin đầu: khai mạc kỳ họp thứ mười.")
    assert wait_job(client, first.json()["job"]["id"])["state"] == "done"
    # What a `tts-service pregenerate` in another process did before it was killed -9:
    # it registered an article and claimed its job, with a lease far longer than the test.
    batch = ArticleStore.open(service.settings.registry_database)
    _, job = register(batch, "luu-tru-1", ARTICLE, priority=10, reason="batch")
    assert job is not None
    dead = f"{machine()}:{_dead_pid()}:deadbeef"
    claimed = batch.claim(dead, lease_s=3600)
    assert claimed is not None and claimed.id == job.id
    batch.db.close()

    # An editor's PUT wakes a worker, which afterwards looks for jobs of dead processes
    # before going back to sleep.
    fresh = put(client, "tin-moi", text="Tin mới: hội nghị sơ kết quý IV.")
    assert wait_job(client, fresh.json()["job"]["id"])["state"] == "done"
    resumed = wait_job(client, job.id)
    assert resumed["state"] == "done"
    article = client.get("/v1/articles/luu-tru-1", headers=AUTH).json()
    assert article["status"] == "ready"


def test_only_a_restart_takes_its_own_pids_other_instances_for_dead():
    host = machine()
    me = f"{host}:4242:aaaaaaaa"
    sibling = f"{host}:4242:bbbbbbbb"
    elsewhere = f"other-host:{_dead_pid()}:cccccccc"
    gone = f"{host}:{_dead_pid()}:dddddddd"
    owners = {me, sibling, elsewhere, gone}
    assert sorted(_dead_owners(owners, me)) == sorted([sibling, gone])
    assert _dead_owners(owners, me, restarting=False) == [gone]


def test_a_worker_of_another_machine_is_left_to_its_lease_whatever_its_hostname():
    """Two machines (or containers) may share a hostname; a pid means nothing across them.

    Another machine's worker with the pid of a process that is gone here, or with this
    worker's own pid (a container's pid 1), is alive as far as we know: its job waits for
    its lease instead of being read twice at once.
    """
    me = worker_owner()
    assert me.startswith(f"{socket.gethostname()}~")
    _, my_pid, _ = me.split(":")
    twin_machines = (socket.gethostname(), f"{socket.gethostname()}~0123456789ab")
    owners = {f"{name}:{pid}:eeeeeeee" for name in twin_machines for pid in (_dead_pid(), my_pid)}
    assert _dead_owners(owners, me) == []
    # The same process, seen from this machine, is still taken for dead once it is.
    here = f"{machine()}:{_dead_pid()}:ffffffff"
    assert _dead_owners({here, *owners}, me) == [here]
