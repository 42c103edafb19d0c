"""The real faceres backbone (``../shared/data/backbones``) loaded into Keras equals its own TF.js graph.

The reference is the graph itself (its GraphDef with the weights filled in, run by TensorFlow:
``train.backbone.graph_reference``), not the Keras code, on the astronaut's face as the runtime
detector + eye alignment crop it and on its mirror image. Tolerance: 1e-4 of the largest feature
(measured: 1.5e-6 relative).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.data_tier.samples import DATA

BACKBONE = DATA / "backbones" / "faceres.json"


@pytest.fixture(scope="module")
def backbone_json():
    pytest.importorskip("tensorflow", reason="the backbone needs the train extra (tensorflow-cpu, keras)")
    if not BACKBONE.is_file():
        pytest.skip(f"data tier: {BACKBONE} is absent (the backbone weights are not shipped)")
    return BACKBONE


def test_keras_backbone_equals_the_tfjs_graph_on_a_real_face(backbone_json, astronaut):
    from realtime_fer.core.align import CropSpec, align_faces
    from realtime_fer.core.detect import create_detector

    from train.backbone import graph_reference, load_backbone

    with create_detector("blazeface", range="auto") as detector:
        faces = detector.detect(astronaut)
    assert len(faces.boxes) == 1
    crop = align_faces(astronaut, faces.boxes, faces.eyes[0], faces.eyes[1], (224, 224),
                       CropSpec(1.185, 0.0, -0.093))[0]
    x = np.stack([crop, crop[:, ::-1]]).astype(np.float32) / 255
    ours = load_backbone(backbone_json, 224).predict(x, verbose=0)
    reference = graph_reference(backbone_json, x)
    assert ours.shape == reference.shape == (2, 1024)
    assert np.abs(reference).max() > 0.5  # real activations, not a dead graph
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())
    assert not np.allclose(reference[0], reference[1], atol=1e-3)  # the two inputs differ


def test_an_altered_backbone_file_is_refused(backbone_json, tmp_path):
    from train.backbone import BackboneError, check_files

    (tmp_path / "faceres.json").write_bytes(backbone_json.read_bytes() + b" ")
    (tmp_path / "faceres.bin").symlink_to(backbone_json.with_suffix(".bin"))
    with pytest.raises(BackboneError, match="faceres.json: expected sha256 5b83d49c"):
        check_files(tmp_path / "faceres.json")
