"""Voice detection (faster-whisper's Silero model) run by OpenVINO rather than ONNX Runtime.

faster-whisper finds the stretches of speech with the Silero VAD model on ONNX Runtime, one thread:
~0.2 s per 100 s of audio, on the helper thread that prepares the next piece while the current one is
decoded, so it takes a core from the decoder. OpenVINO runs the same model file ~3x faster (measured on a
2-core VM: 0.064 s against 0.205 s for 101 s of speech), in float32, with the same speech probabilities
(largest difference 7e-6; not one 32-ms frame decided differently)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.processes import per_process

log = logging.getLogger(__name__)


class _OpenVinoSession:
    """What faster-whisper's SileroVADModel asks of its ONNX Runtime session: `run(None, feeds)`."""

    def __init__(self, model_file: Path):
        import openvino as ov

        # float32 so the probabilities are ONNX Runtime's; one thread, like faster-whisper's own session
        self._compiled = ov.Core().compile_model(str(model_file), "CPU", {
            "INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32", "ENABLE_CPU_PINNING": False})
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()

    def run(self, _output_names, feeds: dict):
        with self._lock:
            result = self._request.infer(feeds)
            return [result[output].copy() for output in self._compiled.outputs]


@per_process(maxsize=1)
def _openvino_vad_model():
    from faster_whisper import vad

    model = vad.SileroVADModel.__new__(vad.SileroVADModel)  # its __init__ only opens the ONNX Runtime session
    model.session = _OpenVinoSession(Path(vad.get_assets_path()) / "silero_vad_v6.onnx")
    return model


def use_openvino_voice_detection() -> bool:
    """Have faster-whisper's voice detection run on OpenVINO from now on, in this process; False (ONNX
    Runtime kept, the reason logged) where OpenVINO cannot run the model."""
    from faster_whisper import vad

    try:
        _openvino_vad_model()
    except (ImportError, RuntimeError, OSError) as exc:
        log.warning("OpenVINO cannot run the voice detection model (%s): ONNX Runtime runs it", exc)
        return False
    vad.get_vad_model = _openvino_vad_model  # what faster_whisper.vad.get_speech_timestamps calls for its model
    return True
