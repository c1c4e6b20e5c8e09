"""Drift is visible in the admin, and read-only there: what reconciliation found stays as found."""
from accounts.models import Account
from orders.models_reconcile import Drift, ReconciliationRun


def test_runs_and_drift_are_listed_and_read_only(admin_client, db):
    account = Account.objects.create(name="main", exchange="binance")
    run = ReconciliationRun.objects.create(account=account, market="spot", outcome="drift", drift_count=1)
    drift = Drift.objects.create(run=run, kind=Drift.Kind.BALANCE, reference="USDT", ledger={"free": "1"},
                                 venue={"free": "2"})

    runs = admin_client.get("/admin/orders/reconciliationrun/", secure=True)
    assert runs.status_code == 200 and "Drift remains" in runs.content.decode()
    detail = admin_client.get(f"/admin/orders/reconciliationrun/{run.pk}/change/", secure=True)
    assert detail.status_code == 200 and "USDT" in detail.content.decode()
    assert admin_client.get("/admin/orders/drift/", secure=True).status_code == 200
    assert admin_client.get("/admin/orders/drift/add/", secure=True).status_code == 403
    response = admin_client.post(f"/admin/orders/drift/{drift.pk}/delete/", {"post": "yes"}, secure=True)
    assert response.status_code == 403
    assert Drift.objects.filter(pk=drift.pk).exists()
