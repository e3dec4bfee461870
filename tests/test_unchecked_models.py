"""Models built in Python skip the loader's cross-checks; compiling them still refuses what
cannot be simulated, with an :class:`InputError` naming the problem, instead of crashing on a
missing value deep in compiling or sampling."""

from __future__ import annotations

import pytest

from drsim.errors import InputError
from drsim.model import Topology
from drsim.model.loader import load_drill, load_topology
from drsim.plan import compile_plan


def with_data(topo: Topology, service: str, **update) -> Topology:
    s = topo.services[service]
    assert s.data is not None
    s2 = s.model_copy(update={"data": s.data.model_copy(update=update)})
    return topo.model_copy(update={"services": {**topo.services, service: s2}})


@pytest.fixture(scope="module")
def estate() -> Topology:
    return load_topology("ehr-hybrid")


def test_corruption_of_a_service_without_backups_is_refused(estate):
    drill = load_drill("ransomware-restore", estate)
    topo = with_data(estate, "documents", backup_interval=None)
    with pytest.raises(InputError, match="'documents' cannot be rebuilt from backup"):
        compile_plan(topo, drill)


def test_backup_restore_without_backups_is_refused(estate):
    drill = load_drill("ransomware-restore", estate)
    assert estate.services["billing"].recovery.strategy == "backup-restore"
    # billing lost with its region rather than corrupted: its RPO is the age of the last backup
    region = estate.services["billing"].region
    lost = drill.model_copy(
        update={"faults": [drill.faults[0].model_copy(update={"kind": "region-loss", "targets": [region]})]}
    )
    compile_plan(estate, lost)
    with pytest.raises(InputError, match=r"strategy backup-restore needs data\.backup_interval"):
        compile_plan(with_data(estate, "billing", backup_interval=None), lost)


def test_async_replication_without_a_lag_is_refused(estate):
    drill = load_drill("ransomware-restore", estate)
    assert estate.services["documents"].data.replication.mode == "async"
    outage = drill.model_copy(
        update={"faults": [drill.faults[0].model_copy(update={"kind": "service-outage", "targets": ["documents"]})]}
    )
    compile_plan(estate, outage)
    repl = estate.services["documents"].data.replication.model_copy(update={"lag": None})
    with pytest.raises(InputError, match="async replication needs a lag distribution"):
        compile_plan(with_data(estate, "documents", replication=repl), outage)


def test_a_cutover_failure_without_a_rollback_section_is_refused(estate):
    drill = load_drill("cutover-rollback", estate)
    with pytest.raises(InputError, match="needs a rollback section"):
        compile_plan(estate, drill.model_copy(update={"rollback": None}))


def test_a_reconciling_rollback_without_a_rate_is_refused(estate):
    drill = load_drill("cutover-rollback", estate)
    rb = drill.rollback
    assert rb is not None
    rb2 = rb.model_copy(update={"policy": "replay", "reconcile_rate": None})
    with pytest.raises(InputError, match="policy replay needs a reconcile_rate"):
        compile_plan(estate, drill.model_copy(update={"rollback": rb2}))


def test_dependents_of_a_service_with_no_runbook_are_not_a_crash(estate):
    drill = load_drill("ransomware-restore", estate)
    s = estate.services["ehr-db"]
    topo = estate.model_copy(
        update={
            "services": {
                **estate.services,
                "ehr-db": s.model_copy(update={"recovery": s.recovery.model_copy(update={"restore": []})}),
            }
        }
    )
    only_db = drill.model_copy(update={"faults": [drill.faults[0].model_copy(update={"targets": ["ehr-db"]})]})
    with pytest.raises(InputError, match="'ehr-db' has no runbook for data-corruption"):
        compile_plan(topo, only_db)


def test_a_role_behind_a_lost_service_without_break_glass_is_refused(estate):
    drill = load_drill("idp-outage", estate)
    role = estate.staff["oncall-engineer"]
    assert "sso" in role.access_via
    compile_plan(estate, drill)
    topo = estate.model_copy(
        update={"staff": {**estate.staff, "oncall-engineer": role.model_copy(update={"break_glass": None})}}
    )
    with pytest.raises(InputError, match="access_via needs break_glass"):
        compile_plan(topo, drill)
