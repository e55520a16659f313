"""fal queue adapter against the fake fal queue (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import time

import pytest

from bananapics.providers.base import ProviderError
from bananapics.providers.fal import FalProvider, app_of, edit_path
from tests.fakes.fal import FalFake
from tests.fakes.fixtures import fal_fake, http_client, make_request, providers_config  # noqa: F401
from tests.fakes.server import colour_of, tiny_image

MODEL = "fal-ai/nano-banana-pro"


def make(fake: FalFake, client, **kwargs) -> FalProvider:
    timeout_s = kwargs.pop("timeout_s", 3.0)
    config = providers_config(fal=fake, timeout_s=timeout_s, **kwargs.pop("config", {}))
    kwargs.setdefault("backoff_s", 0.01)
    kwargs.setdefault("poll_interval_s", 0.005)
    return FalProvider(config, client, **kwargs)


def routes(fake: FalFake) -> list[str]:
    return [r.route for r in fake.requests]


def test_submit_poll_result_and_download(fal_fake, http_client):
    images = make(fal_fake, http_client).generate(
        make_request(MODEL, "a banana", aspect_ratio="16:9", resolution="2K", format="png"))
    assert len(images) == 1 and images[0].mime == "image/png"
    assert routes(fal_fake) == ["submit", "status", "status", "status", "result", "files"]
    submit = fal_fake.requests[0]
    assert submit.path == "/fal-ai/nano-banana-pro"
    assert submit.json == {"prompt": "a banana", "num_images": 1, "aspect_ratio": "16:9", "output_format": "png",
                           "resolution": "2K"}
    request_id = next(iter(fal_fake.jobs))
    for rec in fal_fake.requests[:5]:
        assert rec.header("authorization") == f"Key {fal_fake.key}"
    assert fal_fake.requests[1].path == f"/fal-ai/nano-banana-pro/requests/{request_id}/status"
    assert fal_fake.requests[4].path == f"/fal-ai/nano-banana-pro/requests/{request_id}"
    assert fal_fake.requests[5].header("authorization") is None  # the CDN never sees the key


def test_n_images_and_owner_app_only_queue_urls(fal_fake, http_client):
    model = "fal-ai/bytedance/seedream/v4/text-to-image"
    images = make(fal_fake, http_client).generate(make_request(model, count=3, aspect_ratio="4:3", resolution="2K"))
    assert len(images) == 3 and len({colour_of(i.data) for i in images}) == 3
    submit = fal_fake.requests[0]
    assert submit.json["num_images"] == 3
    w, h = submit.json["image_size"]["width"], submit.json["image_size"]["height"]
    assert abs(w / h - 4 / 3) < 0.02 and w * h <= 2048 * 2048
    status = fal_fake.calls("status")[0]
    assert status.path.startswith("/fal-ai/bytedance/requests/")


def test_references_use_the_edit_endpoint_with_data_uris(fal_fake, http_client):
    png, jpeg = tiny_image((1, 1, 1)), tiny_image((2, 2, 2), "JPEG")
    make(fal_fake, http_client).generate(make_request(MODEL, refs=[(png, "image/png"), (jpeg, "image/jpeg")]))
    submit = fal_fake.requests[0]
    assert submit.path == "/fal-ai/nano-banana-pro/edit"
    assert submit.json["image_urls"] == ["data:image/png;base64," + base64.b64encode(png).decode(),
                                         "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()]
    assert fal_fake.calls("status")[0].path.startswith("/fal-ai/nano-banana-pro/requests/")


def test_gpt_image_family_input(fal_fake, http_client):
    make(fal_fake, http_client).generate(
        make_request("fal-ai/gpt-image-1/text-to-image", refs=[(tiny_image((3, 3, 3)), "image/png")],
                     quality="high", aspect_ratio="2:3", format="png"))
    submit = fal_fake.requests[0]
    assert submit.path == "/fal-ai/gpt-image-1/edit-image"
    assert {k: v for k, v in submit.json.items() if k != "image_urls"} == {
        "prompt": "a banana surfing a wave", "num_images": 1, "image_size": "1024x1536", "quality": "high",
        "output_format": "png"}


@pytest.mark.parametrize(("preset", "route", "kind"), [
    ("content_policy", "result", "moderation"),
    ("validation", "result", "bad_request"),
    ("exhausted_balance", "submit", "quota"),
    ("rate_limited", "submit", "rate_limited"),
    ("runner_failure", "submit", "provider_down"),
    ("runner_failure", "result", "provider_down"),
    ("request_timeout", "result", "timeout"),
    ("malformed", "result", "provider_down"),
    ("malformed", "submit", "provider_down"),
    ("empty", "result", "no_image"),
])
def test_error_mapping(fal_fake, http_client, preset, route, kind):
    fal_fake.script(preset, route=route)
    with pytest.raises(ProviderError) as info:
        make(fal_fake, http_client, max_retries=0).generate(make_request(MODEL))
    assert info.value.kind == kind
    assert fal_fake.key not in str(info.value)


def test_all_outputs_flagged_nsfw_is_moderation_and_some_flagged_is_partial(fal_fake, http_client):
    fal_fake.script(fal_fake.output(2, nsfw=[True, True]), fal_fake.output(2, nsfw=[True, False]), route="result")
    provider = make(fal_fake, http_client)
    with pytest.raises(ProviderError) as info:
        provider.generate(make_request(MODEL, count=2))
    assert info.value.kind == "moderation"
    assert len(provider.generate(make_request(MODEL, count=2))) == 1


def test_a_wrong_key_is_auth(fal_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(fal_fake, http_client, config={"fal_api_key": "fal-wrong-9"}).generate(make_request(MODEL))
    assert info.value.kind == "auth" and "fal-wrong-9" not in str(info.value)


def test_an_unknown_endpoint_is_a_bad_request(fal_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(fal_fake, http_client).generate(make_request("fal-ai/no-such-model"))
    assert info.value.kind == "bad_request" and info.value.status == 404


def test_submit_rate_limited_then_success(fal_fake, http_client):
    sleeps: list[float] = []
    fal_fake.script("rate_limited", route="submit")
    images = make(fal_fake, http_client, sleep=sleeps.append).generate(make_request(MODEL))
    assert len(images) == 1 and sleeps == [0.0]
    assert routes(fal_fake).count("submit") == 2


def test_submit_retries_exhausted(fal_fake, http_client):
    fal_fake.script(*["runner_failure"] * 5, route="submit")
    with pytest.raises(ProviderError) as info:
        make(fal_fake, http_client, max_retries=2, sleep=lambda s: None).generate(make_request(MODEL))
    assert info.value.kind == "provider_down" and routes(fal_fake) == ["submit"] * 3


def test_a_request_that_never_completes_times_out_and_is_cancelled(http_client):
    fake = FalFake(polls=10_000).start()
    try:
        start = time.monotonic()
        with pytest.raises(ProviderError) as info:
            make(fake, http_client, timeout_s=0.3, poll_interval_s=0.02).generate(make_request(MODEL))
        assert info.value.kind == "timeout" and time.monotonic() - start < 2.0
        [cancel] = fake.calls("cancel")
        assert cancel.method == "PUT" and cancel.header("authorization") == f"Key {fake.key}"
        assert next(iter(fake.jobs.values()))["cancelled"] is True
    finally:
        fake.stop()


def test_a_hanging_status_call_times_out(fal_fake, http_client):
    fal_fake.script("hang", route="status")
    start = time.monotonic()
    with pytest.raises(ProviderError) as info:
        make(fal_fake, http_client, timeout_s=0.3).generate(make_request(MODEL))
    assert info.value.kind == "timeout" and time.monotonic() - start < 3.0


def test_queue_urls_on_a_foreign_host_are_not_followed(fal_fake, http_client):
    provider = make(fal_fake, http_client)
    status, response, cancel = provider.queue_urls("fal-ai/bytedance/seedream/v4/edit", {
        "request_id": "r1", "status_url": "https://evil.example/steal/status", "response_url": "https://evil.example/x",
        "cancel_url": "https://evil.example/c"})
    assert status == f"{fal_fake.url}/fal-ai/bytedance/requests/r1/status"
    assert response == f"{fal_fake.url}/fal-ai/bytedance/requests/r1"
    assert cancel == f"{fal_fake.url}/fal-ai/bytedance/requests/r1/cancel"


def test_edit_paths_and_apps():
    assert edit_path("fal-ai/nano-banana") == "fal-ai/nano-banana/edit"
    assert edit_path("fal-ai/nano-banana/edit") == "fal-ai/nano-banana/edit"
    assert edit_path("fal-ai/bytedance/seedream/v4/text-to-image") == "fal-ai/bytedance/seedream/v4/edit"
    assert edit_path("fal-ai/gpt-image-1/text-to-image") == "fal-ai/gpt-image-1/edit-image"
    assert app_of("fal-ai/bytedance/seedream/v4/edit") == "fal-ai/bytedance"


def test_check(fal_fake, http_client):
    result = make(fal_fake, http_client).check()
    assert result.ok and result.latency_ms is not None
    bad = make(fal_fake, http_client, config={"fal_api_key": "fal-nope-7"}).check()
    assert not bad.ok and bad.detail.startswith("auth") and "fal-nope-7" not in repr(bad)
