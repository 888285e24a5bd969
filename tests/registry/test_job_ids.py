"""GET /v1/jobs/{id} with ids no job can have: a clear 404, never a 500."""

from __future__ import annotations

import pytest

from tests.registry.cms import AUTH


@pytest.mark.parametrize("job_id", [2**63, 2**63 + 1, 10**30, 0, -1])
def test_an_id_no_job_can_have_is_not_found(cms, job_id):
    client, _ = cms
    answer = client.get(f"/v1/jobs/{job_id}", headers=AUTH)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Không có tác vụ này (no job with this id)."
    waited = client.get(f"/v1/jobs/{job_id}", params={"wait": 1}, headers=AUTH)
    assert waited.status_code == 404


def test_the_largest_id_is_looked_up(cms):
    client, _ = cms
    answer = client.get(f"/v1/jobs/{2**63 - 1}", headers=AUTH)
    assert answer.status_code == 404
