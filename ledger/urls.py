from django.urls import path

import ledger.bounds  # noqa: F401  (registers <id:...>)

from . import api

urlpatterns = [
    path("entries/", api.EntryList.as_view(), name="entry-list"),
    path("entries/<id:seq>/", api.EntryDetail.as_view(), name="entry-detail"),
    path("entries/<id:seq>/proof/", api.EntryProof.as_view(), name="entry-proof"),
    path("checkpoints/", api.CheckpointList.as_view(), name="checkpoint-list"),
    path("checkpoints/latest/", api.CheckpointLatest.as_view(), name="checkpoint-latest"),
    path("checkpoints/consistency/", api.Consistency.as_view(), name="checkpoint-consistency"),
    path("checkpoints/key/", api.PublicKey.as_view(), name="checkpoint-key"),
    path("checkpoints/notes/", api.CheckpointNotes.as_view(), name="checkpoint-notes"),
    path("checkpoints/<id:size>/", api.CheckpointBySize.as_view(), name="checkpoint-detail"),
]
