"""A small OpenAI-compatible HTTP server for the tests: the real openai client talks to it over HTTP.

It answers /v1/audio/transcriptions, /v1/chat/completions (structured outputs, and answers written and
streamed from numbered moments) and /v1/embeddings,
records every request, and can be told to fail the next requests (429 with Retry-After, 500, 401).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import tempfile
import threading
import time
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path

import numpy as np

from core.sources import audio

EMBEDDING_DIM = 64
#: The fake's whole knowledge of Spanish: enough to translate the tests' sentences word by word.
SPANISH = {"el": "the", "la": "the", "mercado": "market", "precios": "prices", "suben": "rise", "hoy": "today",
           "de": "of", "las": "the", "acciones": "shares", "hotel": "hotel", "estaba": "was", "muy": "very",
           "sucio": "dirty", "comida": "food", "fria": "cold", "fría": "cold", "y": "and", "frutas": "fruits"}


DIARIZE_SPLIT_HZ = 135  # the stand-in's whole diarization: voices pitched below or above this


def _decoded(sound: bytes) -> np.ndarray:
    """An upload as 16 kHz mono samples."""
    import subprocess

    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "16000",
                          "pipe:1"], input=sound, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0


def _pitch(samples: np.ndarray) -> float:
    """The median fundamental frequency of a stretch of speech, from the autocorrelation of 40-ms frames."""
    found = []
    for start in range(0, len(samples) - 640, 320):
        frame = samples[start:start + 640] - samples[start:start + 640].mean()
        if np.sqrt(np.mean(frame ** 2)) < 1e-3:
            continue
        correlation = np.correlate(frame, frame, "full")[639:]
        lag = 40 + int(np.argmax(correlation[40:200]))  # 80 to 400 Hz
        if correlation[lag] > 0.3 * correlation[0]:
            found.append(16000 / lag)
    return float(np.median(found)) if found else 0.0


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def embedding(text: str) -> list[float]:
    """Bag of hashed words: texts sharing words are close, as a real model's would be for these tests."""
    vector = np.zeros(EMBEDDING_DIM)
    for word in _words(text):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % EMBEDDING_DIM] += 1.0
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector + 1 / np.sqrt(EMBEDDING_DIM)).tolist()


class Streamed:
    """An answer sent as server-sent events, as OpenAI streams a completion."""

    def __init__(self, chunks: list[dict]):
        self.chunks = chunks


class FakeOpenAI:
    def __init__(self):
        self.requests: list[dict] = []
        self.failures: list[tuple[str, int, dict, dict]] = []  # (path prefix, status, headers, body)
        self.in_flight = 0
        self.max_in_flight = 0
        self.transcript_text = "Welcome to the cooking show. Today we bake a chocolate cake."
        self.transcript_language = "english"
        #: Segment indices the next translation answer leaves out (a model skipping lines).
        self.skip_in_next_translation: set[int] = set()
        #: How the stand-in writes answers to questions (the prompt -> the text); None: its own simple way.
        self.answer_with = None
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    request_headers = {k.lower(): v for k, v in self.headers.items()}
                    status, headers, payload = fake.answer(self.path, request_headers, body)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                if isinstance(payload, Streamed):
                    data = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in payload.chunks).encode()
                    data += b"data: [DONE]\n\n"
                    content_type = "text/event-stream"
                else:
                    data, content_type = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def fail_next(self, path: str, status: int, times: int = 1, headers: dict | None = None, body: dict | None = None):
        error = body or {"error": {"message": f"fake failure {status}", "type": "server_error", "code": None}}
        self.failures += [(path, status, headers or {}, error)] * times

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(path)]

    def answer(self, path: str, headers: dict, body: bytes):
        entry = {"path": path, "headers": headers, "size": len(body)}
        with self._lock:
            self.requests.append(entry)
            for number, (prefix, status, extra, error) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[number]
                    return status, extra, error
        if path.startswith("/v1/audio/transcriptions"):
            return 200, {}, self._transcription(headers, body, entry)
        if path.startswith("/v1/chat/completions"):
            request = json.loads(body)
            entry["prompt"] = request["messages"][-1]["content"]
            entry["messages"] = request["messages"]
            entry["schema"] = request.get("response_format", {}).get("json_schema", {}).get("name")
            if "response_format" not in request:
                return 200, {}, self._written_answer(request)
            return 200, {}, self._chat(request)
        if path.startswith("/v1/embeddings"):
            request = json.loads(body)
            inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
            entry["inputs"] = len(inputs)
            return 200, {}, {"object": "list", "model": request["model"],
                             "data": [{"object": "embedding", "index": i, "embedding": embedding(text)}
                                      for i, text in enumerate(inputs)],
                             "usage": {"prompt_tokens": sum(len(_words(t)) for t in inputs),
                                       "total_tokens": sum(len(_words(t)) for t in inputs)}}
        return 404, {}, {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}

    def _transcription(self, headers: dict, body: bytes, entry: dict) -> dict:
        message = BytesParser(policy=email_policy).parsebytes(
            f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + body)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        sound = fields["file"].get_payload(decode=True)
        model = fields["model"].get_content().strip()
        with tempfile.NamedTemporaryFile(suffix=".mp3") as upload:
            upload.write(sound)
            upload.flush()
            duration = audio.duration_of(Path(upload.name))
        entry.update(model=model, duration=duration, upload_bytes=len(sound),
                     prompt=fields["prompt"].get_content().strip() if "prompt" in fields else None)
        time.sleep(0.2)  # long enough for parallel uploads to overlap
        response_format = fields["response_format"].get_content().strip() if "response_format" in fields else "json"
        entry["response_format"] = response_format
        if response_format == "diarized_json":
            return self._diarized(sound, duration)
        # One segment every 30 s of the upload, so stitching the pieces back together can be checked.
        segments = [{"id": i, "start": start, "end": min(duration, start + 29.0),
                     "text": f" {self.transcript_text} Part {i}."}
                    for i, start in enumerate(np.arange(0, max(duration - 1, 0.5), 30.0).tolist())]
        return {"task": "transcribe", "language": self.transcript_language, "duration": duration,
                "text": " ".join(s["text"] for s in segments), "segments": segments}

    def _diarized(self, sound: bytes, duration: float) -> dict:
        """As gpt-4o-transcribe-diarize answers: a segment per stretch of speech between pauses, each with a speaker
        label of this upload only ("A" for the first voice heard in it). The stand-in tells voices apart by pitch
        alone (below or above `DIARIZE_SPLIT_HZ`), which is enough for the tests' generated voices."""
        samples = _decoded(sound)
        frame = 320  # 20 ms
        energy = np.array([np.sqrt(np.mean(samples[i:i + frame] ** 2)) for i in range(0, len(samples) - frame, frame)])
        loud = energy > max(energy.max() * 0.05, 1e-4) if len(energy) else energy
        stretches, start = [], None
        for index, voiced in enumerate(list(loud) + [False]):
            if voiced and start is None:
                start = index
            elif not voiced and start is not None:
                if stretches and start - stretches[-1][1] < 15:  # pauses under 0.3 s join
                    stretches[-1][1] = index
                else:
                    stretches.append([start, index])
                start = None
        labels, segments = {}, []
        for number, (first, last) in enumerate(s for s in stretches if s[1] - s[0] >= 10):
            piece = samples[first * frame:last * frame]
            voice = "high" if _pitch(piece) > DIARIZE_SPLIT_HZ else "low"
            if voice not in labels:
                labels[voice] = "AB"[len(labels)]
            label = labels[voice]
            segments.append({"type": "transcript.text.segment", "id": f"seg_{number}", "start": first * 0.02,
                             "end": min(duration, last * 0.02), "speaker": label,
                             "text": f" {self.transcript_text} Part {number}."})
        return {"task": "transcribe", "duration": duration, "text": " ".join(s["text"] for s in segments),
                "segments": segments, "usage": {"type": "duration", "seconds": duration}}

    def _written_answer(self, request: dict):
        """A model writing an answer from numbered moments: by default it cites the moment sharing most words with
        the question, or says the moments do not answer; `answer_with` (the prompt -> the text) stands for other
        models, such as one citing a moment it was not given."""
        prompt = request["messages"][-1]["content"]
        if self.answer_with is not None:
            text = self.answer_with(prompt)
        else:
            question = set(_words(prompt.rsplit("Question:", 1)[-1])) - {"the", "a", "is", "what", "how", "do", "of"}
            lines = re.findall(r"^\[(\d+)\] .*?: (.*)$", prompt, re.MULTILINE)
            shared = max(((len(question & set(_words(said))), number, said) for number, said in lines), default=None)
            text = (f"The library says: {shared[2]} [{shared[1]}]" if shared and shared[0] >= 2
                    else "NOT_COVERED")
        usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                 "total_tokens": len(prompt) // 4 + len(text) // 4}
        if not request.get("stream"):
            return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": request["model"], "usage": usage,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text, "refusal": None}}]}
        pieces = re.findall(r"\S+\s*", text) or [""]
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": request["model"]}
        chunks = [{**chunk, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                  for piece in pieces]
        chunks.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if request.get("stream_options", {}).get("include_usage"):
            chunks.append({**chunk, "choices": [], "usage": usage})
        return Streamed(chunks)

    def _chat(self, request: dict) -> dict:
        schema = request["response_format"]["json_schema"]["name"]
        prompt = request["messages"][-1]["content"]
        indices = [int(i) for i in re.findall(r"^\[(\d+)\]", prompt, re.MULTILINE)]
        scores = [{"index": i, "score": 0.6} for i in indices]
        if schema.endswith("TranslatedBatch"):
            lines = dict(re.findall(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE))
            skipped, self.skip_in_next_translation = self.skip_in_next_translation, set()
            content = {"segments": [{"index": int(i), "text": re.sub(r"[^\W\d_]+", lambda word: SPANISH.get(
                word.group().lower(), word.group()), text)} for i, text in lines.items() if int(i) not in skipped]}
        elif schema.endswith("ChapterTitles"):
            chapters = re.findall(r"^\[(\d+)\] (\S+(?: \S+)?)", prompt, re.MULTILINE)
            content = {"chapters": [{"index": int(i), "title": f"About {words}"} for i, words in chapters]}
        elif schema.endswith("ThemeNames"):  # named after its first keyword
            themes = re.findall(r"^\[(\d+)\] ([^,\n]+)", prompt, re.MULTILINE)
            content = {"themes": [{"index": int(i), "name": f"All about {word}"} for i, word in themes]}
        elif schema.endswith("PartAnalysis"):
            content = {"summary": "A part about baking.", "topics": ["chocolate cake", "baking"], "segments": scores}
        else:
            content = {"summary": "A cooking show where a chocolate cake is baked.",
                       "topics": ["chocolate cake", "baking", "cooking show"], "sentiment_score": 0.6,
                       "category": "food"}
            if schema.endswith("WholeAnalysis"):
                content["segments"] = scores
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": request["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": json.dumps(content), "refusal": None}}],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 60,
                          "total_tokens": len(prompt) // 4 + 60}}

    def close(self):
        self.server.shutdown()
