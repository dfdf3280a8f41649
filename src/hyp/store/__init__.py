"""Tracking backends. `open_tracker` imports MLflow; nothing else here does at import time."""


def open_tracker(lab):
    from hyp.store.mlflow_store import MlflowTracker

    # A tracking server keeps its own artifacts; a database store keeps them in the lab.
    uri = lab.tracking_uri
    root = None if uri.startswith(("http://", "https://", "databricks")) else lab.state_dir / "artifacts"
    return MlflowTracker(uri, lab.settings.experiment, artifact_root=root)
