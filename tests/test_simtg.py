"""simtg: a real Telethon client against the simulated Telegram.

A tiny bot is written here with ordinary Telethon handlers (NewMessage echo, a CallbackQuery menu
that edits in place, an Album handler, a raw pre-checkout handler, a raw payment service-message
handler) and driven by ``SimUser``s. Everything goes through Telethon 1.45's real request
serialisation, update loop (MessageBox) and event dispatch.
"""

from __future__ import annotations

import asyncio
import io
import os

import pytest
from PIL import Image
from telethon import Button, errors, events, functions, types, utils
from telethon.sessions import SQLiteSession

from bananapics.simtg import (
    BotHandlerError, FakeTelegram, Limits, ManualClock, NotSimulatedError, SettleTimeout, SimClient, SimUser,
)

START = r"^/start(?:@\w+)?(?:\s+(\S+))?$"
MENU = [[Button.inline("🎨 Generate", b"menu:gen"), Button.inline("💰 Balance", b"menu:bal")],
        [Button.inline("🛒 Buy", b"menu:buy"), Button.url("Help", "https://example.org/help")]]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def png(color=(200, 30, 30), size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def named(data: bytes, name: str) -> io.BytesIO:
    bio = io.BytesIO(data)
    bio.name = name
    return bio


def invoice(payload: bytes, amount: int = 50) -> types.InputMediaInvoice:
    return types.InputMediaInvoice(
        title="50 tokens", description="A pack of 50 tokens",
        invoice=types.Invoice(currency="XTR", prices=[types.LabeledPrice(label="50 tokens", amount=amount)]),
        payload=payload, provider_data=types.DataJSON(data="{}"),
    )


def make_bot(tg: FakeTelegram, **kwargs) -> SimClient:
    """The tiny bot under test: plain Telethon handlers, nothing simulator-specific."""
    bot = SimClient(telegram=tg, **kwargs)
    bot.seen = {"albums": [], "paid": [], "credited": {}, "refunded": [], "stopped": [], "senders": []}

    @bot.on(events.NewMessage(pattern=START))
    async def start(event):
        sender = await event.get_sender()
        bot.seen["senders"].append((sender.id, sender.first_name, sender.lang_code))
        payload = event.pattern_match.group(1)
        await event.respond(f"Welcome{' via ' + payload if payload else ''}", buttons=MENU)
        raise events.StopPropagation

    @bot.on(events.NewMessage(pattern=r"^/buy(?:\s+(\S+))?$"))
    async def buy(event):
        payload = (event.pattern_match.group(1) or "order:1").encode()
        await bot(functions.messages.SendMediaRequest(
            peer=await event.get_input_chat(), media=invoice(payload), message="",
            reply_markup=bot.build_reply_markup(Button.buy("Pay ⭐50")),
        ))
        raise events.StopPropagation

    @bot.on(events.NewMessage(func=lambda e: e.grouped_id is None and not e.raw_text.startswith("/")))
    async def echo(event):
        if event.photo:
            data = await event.download_media(file=bytes)
            await event.respond("your photo", file=named(data, "echo.png"))
        elif event.document:
            data = await event.download_media(file=bytes)
            await event.respond(f"doc {event.file.name} {event.file.mime_type} {len(data)}")
        elif event.raw_text == "boom":
            raise RuntimeError("handler exploded")
        else:
            await event.respond(f"echo: {event.raw_text}")

    @bot.on(events.Album)
    async def album(event):
        datas = [await m.download_media(file=bytes) for m in event.messages]
        bot.seen["albums"].append(([m.id for m in event.messages], datas, event.text))
        await event.respond(f"album of {len(event.messages)}")

    @bot.on(events.CallbackQuery(pattern=rb"^menu:(\w+)$"))
    async def menu(event):
        what = event.pattern_match.group(1)
        if what == b"gen":
            await event.answer("Let's go")
            await event.edit("Send a description", buttons=[[Button.inline("✖ Cancel", b"menu:cancel")]])
        elif what == b"bal":
            await event.answer("Balance: 0 tokens", alert=True)
        elif what == b"cancel":
            await event.edit("Main menu", buttons=MENU)
        elif what == b"buy":
            await event.answer()
            await bot(functions.messages.SendMediaRequest(
                peer=await event.get_input_chat(), media=invoice(b"order:7"), message=""))

    @bot.on(events.Raw(types.UpdateBotPrecheckoutQuery))
    async def precheckout(update):
        ok = update.payload.startswith(b"order:")
        await bot(functions.messages.SetBotPrecheckoutResultsRequest(
            query_id=update.query_id, success=True if ok else None, error=None if ok else "Unknown order"))

    @bot.on(events.Raw(types.UpdateNewMessage))
    async def service(update):
        msg = update.message
        if not isinstance(msg, types.MessageService):
            return
        if isinstance(msg.action, types.MessageActionPaymentSentMe):
            charge = msg.action.charge.id
            bot.seen["paid"].append(charge)
            if charge not in bot.seen["credited"]:  # idempotent on the charge id
                bot.seen["credited"][charge] = msg.action.total_amount
                await bot.send_message(msg.peer_id, f"✅ +{msg.action.total_amount}")
        elif isinstance(msg.action, types.MessageActionPaymentRefunded):
            bot.seen["refunded"].append(msg.action.charge.id)

    @bot.on(events.Raw(types.UpdateBotStopped))
    async def stopped(update):
        bot.seen["stopped"].append((update.user_id, update.stopped))

    return bot


async def started(limits: Limits | None = None, **kwargs):
    clock = ManualClock()
    tg = FakeTelegram(clock=clock, limits=limits)
    bot = make_bot(tg, **kwargs)
    await bot.start(bot_token=tg.bot_token)
    return tg, clock, bot


# ------------------------------------------------------------------------------------------------


def test_messages_and_buttons_round_trip_as_real_telethon_objects():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann", username="ann", lang_code="uz")
            sent = await ann.start("ref_abc")
            assert bot.seen["senders"] == [(ann.id, "Ann", "uz")]
            reply = ann.last
            assert reply.text == "Welcome via ref_abc" and reply.from_bot and reply.id > sent.id
            assert ann.buttons() == ["🎨 Generate", "💰 Balance", "🛒 Buy", "Help"]
            assert reply.button("Help").url == "https://example.org/help"
            assert reply.button("Generate").data == b"menu:gen"  # unique substring match
            # What went over the wire is a layer-229 inline markup built by Telethon's Button.
            request = tg.requests_of(functions.messages.SendMessageRequest)[-1]
            assert isinstance(request.reply_markup, types.ReplyInlineMarkup)
            first = request.reply_markup.rows[0].buttons[0]
            assert isinstance(first, types.KeyboardInlineButton)
            assert isinstance(first.type, types.InlineButtonTypeCallback) and first.type.data == b"menu:gen"

            # The bot's own send/get return Telethon's custom Message with the server's ids.
            clock.advance(5)
            msg = await bot.send_message(ann.id, "**hello** there", buttons=Button.inline("ok", b"x:1"))
            assert msg.id == ann.last.id and msg.out and msg.raw_text == "hello there"
            assert isinstance(msg.entities[0], types.MessageEntityBold)
            assert msg.buttons[0][0].data == b"x:1" and msg.chat_id == ann.id
            fetched = await bot.get_messages(ann.id, ids=msg.id)
            assert fetched.raw_text == "hello there" and fetched.reply_markup.rows[0].buttons[0].text == "ok"
            assert isinstance(sent.entities[0], types.MessageEntityBotCommand)
            reply_msg = await bot.send_message(ann.id, "re", reply_to=sent.id)
            assert reply_msg.reply_to_msg_id == sent.id == ann.last.reply_to_msg_id
            me = await bot.get_me()
            assert me.bot and me.id == tg.bot.id
            with pytest.raises(errors.BotMethodInvalidError):
                await bot.get_messages(ann.id, limit=5)  # bots cannot read history
        finally:
            await bot.disconnect()

    run(scenario())


def test_callback_is_answered_and_message_edited_in_place():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.start()
            panel_id = ann.panel.id
            answer = await ann.press("Generate")
            assert answer.answered and answer.message == "Let's go" and not answer.alert
            assert ann.panel.id == panel_id and ann.panel.text == "Send a description" and ann.panel.edited
            assert ann.buttons() == ["✖ Cancel"]
            await ann.press("Cancel")
            assert ann.panel.text == "Main menu" and ann.panel.id == panel_id
            alert = await ann.press("💰 Balance")
            assert alert.alert and alert.message == "Balance: 0 tokens"
            # Telegram accepts one answer per query.
            with pytest.raises(errors.QueryIdInvalidError):
                await bot(functions.messages.SetBotCallbackAnswerRequest(query_id=alert.query_id, cache_time=0))
            # Forged data no handler matches: nobody answers, and answering after the TTL fails.
            forged = await ann.press_data(b"admin:grant:999")
            assert not forged.answered
            clock.advance(tg.limits.callback_query_ttl + 1)
            with pytest.raises(errors.QueryIdInvalidError):
                await bot(functions.messages.SetBotCallbackAnswerRequest(query_id=forged.query_id, cache_time=0))
            with pytest.raises(ValueError):
                await ann.press("Help")  # a URL button sends nothing to the bot
            # Deleting removes it from what the user sees.
            await bot.delete_messages(ann.id, [panel_id])
            assert ann.panel is None and all(m.id != panel_id for m in ann.messages)
        finally:
            await bot.disconnect()

    run(scenario())


def test_identical_edit_raises_message_not_modified():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.start()
            msg = await bot.send_message(ann.id, "Panel", buttons=[Button.inline("A", b"a")])
            with pytest.raises(errors.MessageNotModifiedError):
                await bot.edit_message(ann.id, msg.id, "Panel", buttons=[Button.inline("A", b"a")])
            edited = await bot.edit_message(ann.id, msg.id, "Panel", buttons=[Button.inline("B", b"b")])
            assert edited.buttons[0][0].text == "B" and edited.edit_date is not None
            # Leaving buttons out of an edit drops the keyboard (a change, not an error).
            await bot.edit_message(ann.id, msg.id, "Panel")
            assert ann.last.buttons == [] and len(ann.last.versions) == 2
            with pytest.raises(errors.MessageNotModifiedError):
                await bot.edit_message(ann.id, msg.id, "Panel")
            with pytest.raises(errors.MessageAuthorRequiredError):
                await bot.edit_message(ann.id, ann.history[0].id, "not mine")
            with pytest.raises(errors.MessageIdInvalidError):
                await bot.edit_message(ann.id, 999_999, "gone")
        finally:
            await bot.disconnect()

    run(scenario())


def test_content_limits_are_enforced():
    async def scenario():
        tg, clock, bot = await started(limits=Limits(rate_limits=False))
        try:
            ann = SimUser(tg, "Ann")
            await ann.start()
            with pytest.raises(ValueError):
                Button.inline("x", b"d" * 65)  # Telethon refuses client-side...
            too_long = types.ReplyInlineMarkup(rows=[types.KeyboardInlineButtonRow(buttons=[
                types.KeyboardInlineButton("x", types.InlineButtonTypeCallback(b"d" * 65))])])
            with pytest.raises(errors.ButtonDataInvalidError):  # ...and so does Telegram
                await bot.send_message(ann.id, "hi", buttons=too_long)
            await bot.send_message(ann.id, "hi", buttons=Button.inline("x", b"d" * 64))

            await bot.send_message(ann.id, "a" * 4096)
            with pytest.raises(errors.MessageTooLongError):
                await bot.send_message(ann.id, "a" * 4097)
            with pytest.raises(errors.MessageEmptyError):
                await bot(functions.messages.SendMessageRequest(peer=ann.id, message="   "))

            photo = named(png(), "p.png")
            await bot.send_file(ann.id, photo, caption="c" * 1024)
            with pytest.raises(errors.MediaCaptionTooLongError):
                await bot.send_file(ann.id, named(png(), "p.png"), caption="c" * 1025)

            with pytest.raises(errors.ReplyMarkupTooLongError):  # 9 buttons in one row
                await bot.send_message(ann.id, "wide", buttons=[[Button.inline(str(i), str(i)) for i in range(9)]])
            with pytest.raises(errors.ReplyMarkupTooLongError):  # 101 buttons
                await bot.send_message(ann.id, "tall", buttons=[[Button.inline(str(i), str(i))] for i in range(101)])
            await bot.send_message(ann.id, "ok", buttons=[[Button.inline(f"{r}{c}", f"{r}:{c}") for c in range(8)]
                                                          for r in range(12)][:12])
            with pytest.raises(errors.ButtonUrlInvalidError):
                await bot.send_message(ann.id, "bad url", buttons=Button.url("x", "javascript:alert(1)"))
            with pytest.raises(errors.ButtonTypeInvalidError):  # a buy button outside an invoice
                await bot.send_message(ann.id, "buy?", buttons=Button.buy("Pay"))
            # Failed requests are recorded with their error, successful ones are not flagged.
            assert any(r.error == "400 MESSAGE_TOO_LONG" for r in tg.requests)
        finally:
            await bot.disconnect()

    run(scenario())


def test_global_flood_limit_30_messages_per_second():
    async def scenario():
        tg, clock, bot = await started()
        try:
            users = []
            for i in range(31):
                user = SimUser(tg, f"U{i}")
                await user.send("hi")  # the echo reply is one message…
                clock.advance(1.0)  # …so let each second pass
                users.append(user)
            for user in users[:30]:
                await bot.send_message(user.id, "news")
            with pytest.raises(errors.FloodWaitError) as err:
                await bot.send_message(users[30].id, "news")
            assert err.value.seconds == 1
            assert tg.flood_waits[-1][1:] == ("global", users[30].id, 1)
            clock.advance(1.0)
            await bot.send_message(users[30].id, "news")
            assert users[30].texts[-1] == "news"
        finally:
            await bot.disconnect()

    run(scenario())


def test_per_chat_flood_limit_about_one_message_per_second():
    async def scenario():
        tg, clock, bot = await started(limits=Limits(per_chat_burst=3))
        try:
            ann, bob = SimUser(tg, "Ann"), SimUser(tg, "Bob")
            await ann.send("hi")
            await bob.send("hi")
            clock.advance(10)
            for i in range(3):  # a short burst is tolerated
                await bot.send_message(ann.id, f"burst {i}")
            with pytest.raises(errors.FloodWaitError) as err:
                await bot.send_message(ann.id, "one too many")
            assert err.value.seconds == 1 and tg.flood_waits[-1][1] == "chat"
            await bot.send_message(bob.id, "other chats are unaffected")
            for i in range(5):  # one message per second is fine forever
                clock.advance(1.0)
                await bot.send_message(ann.id, f"steady {i}")
            clock.advance(1.0)
            await bot.send_message(ann.id, "two per second…")
            with pytest.raises(errors.FloodWaitError):  # …is not
                await bot.send_message(ann.id, "…is too fast")
            # A flood wait longer than 3 s is remembered by Telethon per request type; the
            # simulator keeps that memory on the server clock, so advancing it ends the wait.
            tg.limits.per_chat_rate = 0.2
            clock.advance(30)
            for i in range(3):
                await bot.send_message(ann.id, f"slow {i}")
            with pytest.raises(errors.FloodWaitError) as err:
                await bot.send_message(ann.id, "slow 3")
            assert err.value.seconds == 5
            requests = len(tg.requests)
            with pytest.raises(errors.FloodWaitError):  # refused by Telethon itself, not sent
                await bot.send_message(bob.id, "any chat, same request type")
            assert len(tg.requests) == requests
            clock.advance(5)
            await bot.send_message(bob.id, "wait is over")
        finally:
            await bot.disconnect()

    run(scenario())


def test_a_repeated_random_id_is_refused_as_a_duplicate_and_sends_nothing():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann, bob = SimUser(tg, "Ann"), SimUser(tg, "Bob")
            await ann.send("hi")
            await bob.send("hi")
            before = len(ann.messages)
            send = functions.messages.SendMessageRequest(peer=ann.id, message="once", random_id=4242)
            await bot(send)
            # Telegram's 500 RANDOM_ID_DUPLICATE (Telethon would retry a 5xx on its own: the sender directly)
            again = functions.messages.SendMessageRequest(peer=ann.id, message="once", random_id=4242)
            await again.resolve(bot, utils)
            with pytest.raises(errors.RandomIdDuplicateError):
                await bot._sender.send(again)
            assert [m.text for m in ann.messages[before:]] == ["once"]
            await bot(functions.messages.SendMessageRequest(peer=bob.id, message="other chat", random_id=4242))
            assert bob.texts[-1] == "other chat"  # the same id in another chat is another message
            # an album is refused whole when any of its ids was used; nothing of it is sent
            photo = (await bot(functions.messages.UploadMediaRequest(
                peer=ann.id, media=types.InputMediaUploadedPhoto(await bot.upload_file(named(png(), "a.png")))))).photo
            item = types.InputMediaPhoto(types.InputPhoto(photo.id, photo.access_hash, photo.file_reference))
            clock.advance(5)
            album = functions.messages.SendMultiMediaRequest(peer=ann.id, multi_media=[
                types.InputSingleMedia(media=item, random_id=7, message=""),
                types.InputSingleMedia(media=item, random_id=4242, message="")])
            await album.resolve(bot, utils)
            with pytest.raises(errors.RandomIdDuplicateError):
                await bot._sender.send(album)
            assert [m.text for m in ann.messages[before:]] == ["once"] and tg.flood_waits == []
            await bot(functions.messages.SendMultiMediaRequest(peer=ann.id, multi_media=[
                types.InputSingleMedia(media=item, random_id=7, message=""),
                types.InputSingleMedia(media=item, random_id=8, message="")]))
            assert [m.media_kind for m in ann.messages[before:]] == [None, "photo", "photo"]
        finally:
            await bot.disconnect()

    run(scenario())


def test_blocked_user_raises_user_is_blocked():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.start()
            await ann.block_bot()
            assert bot.seen["stopped"] == [(ann.id, True)]
            with pytest.raises(errors.UserIsBlockedError):
                await bot.send_message(ann.id, "are you there?")
            with pytest.raises(errors.UserIsBlockedError):
                await bot(functions.messages.SetTypingRequest(peer=ann.id, action=types.SendMessageTypingAction()))
            clock.advance(5)
            await ann.send("back")  # "Restart" unblocks
            assert bot.seen["stopped"] == [(ann.id, True), (ann.id, False)]
            assert ann.last.text == "echo: back"
            # A user who never wrote to the bot cannot be messaged either.
            stranger = SimUser(tg, "Stranger")
            with pytest.raises(errors.PeerIdInvalidError):
                await bot(functions.messages.SendMessageRequest(
                    peer=types.InputPeerUser(stranger.id, stranger.record.access_hash), message="hi"))
        finally:
            await bot.disconnect()

    run(scenario())


def test_photo_and_document_upload_download_round_trip_bytes():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            original = png((10, 200, 90), (320, 200))
            sent = await ann.send_photo(original)
            assert sent.media_kind == "photo"
            echoed = ann.last  # the bot downloaded the user's photo and uploaded it back
            assert echoed.text == "your photo" and echoed.media_kind == "photo"
            assert echoed.file == original
            photo = echoed.raw.media.photo
            assert (photo.sizes[-1].w, photo.sizes[-1].h) == (320, 200)

            clock.advance(5)  # forwarding keeps the media and names the original sender
            bob = SimUser(tg, "Bob")
            await bob.send("hi")
            await bot.forward_messages(bob.id, sent.id, ann.id)
            assert bob.last.file == original and bob.last.raw.fwd_from.from_id == types.PeerUser(ann.id)

            clock.advance(5)
            await ann.send_document(b"%PDF-1.4 fake", "brief.pdf", "application/pdf")
            assert ann.last.text == "doc brief.pdf application/pdf 13"

            clock.advance(5)  # a multi-part upload and a multi-chunk download (512 KiB parts)
            blob = os.urandom(1_300_000)
            msg = await bot.send_file(ann.id, named(blob, "result.bin"), force_document=True)
            assert ann.last.file == blob and ann.last.file_name == "result.bin"
            assert await bot.download_media(msg, file=bytes) == blob
            assert len(tg.requests_of(functions.upload.SaveFilePartRequest)) >= 3
            assert len(tg.requests_of(functions.upload.GetFileRequest)) >= 3

            clock.advance(5)  # original quality = force_document on an image
            doc = await bot.send_file(ann.id, named(original, "full.png"), force_document=True)
            assert ann.last.media_kind == "document" and ann.last.file == original
            assert doc.file.mime_type == "image/png"
            with pytest.raises(errors.ImageProcessFailedError):
                await bot(functions.messages.SendMediaRequest(
                    peer=ann.id, message="", media=types.InputMediaUploadedPhoto(
                        file=await bot.upload_file(named(b"not an image", "x.png")))))
        finally:
            await bot.disconnect()

    run(scenario())


def test_album_arrives_as_one_album_event():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            pics = [png((i * 60, 10, 10)) for i in range(3)]
            msgs = await ann.send_album(pics, caption="references")
            assert len({m.grouped_id for m in msgs}) == 1 and msgs[0].grouped_id is not None
            assert len(bot.seen["albums"]) == 1
            ids, datas, text = bot.seen["albums"][0]
            assert ids == [m.id for m in msgs] and datas == pics and text == "references"
            assert ann.texts == ["album of 3"]  # NewMessage saw the parts but filtered them out
            # And the bot sending an album (photos, uploaded via messages.uploadMedia first).
            clock.advance(5)
            sent = await bot.send_file(ann.id, [named(p, f"{i}.png") for i, p in enumerate(pics[:2])],
                                       caption=["one", "two"])
            assert [m.id for m in sent] == [m.id for m in ann.messages[-2:]]
            assert {m.grouped_id for m in ann.messages[-2:]} == {sent[0].grouped_id}
            assert [m.file for m in ann.messages[-2:]] == pics[:2]
            assert [m.text for m in ann.messages[-2:]] == ["one", "two"]
        finally:
            await bot.disconnect()

    run(scenario())


def test_invoice_precheckout_payment_replayed_three_times():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.send("/buy order:42")
            inv = ann.last
            assert inv.media_kind == "invoice" and inv.buttons == ["Pay ⭐50"]
            assert inv.raw.media.currency == "XTR" and inv.raw.media.total_amount == 50
            assert tg.invoices[-1].payload == b"order:42"

            result = await ann.pay(replays=3)
            assert result.ok and result.charge_id
            assert tg.precheckouts[result.query_id].ok
            assert bot.seen["paid"] == [result.charge_id] * 3  # delivered three times…
            assert bot.seen["credited"] == {result.charge_id: 50}  # …credited once
            assert ann.texts[-1] == "✅ +50" and ann.texts.count("✅ +50") == 1
            service = next(m for m in ann.history if m.is_service)
            assert isinstance(service.action, types.MessageActionPaymentSentMe)
            assert service.reply_to_msg_id == inv.id and service.action.payload == b"order:42"
            with pytest.raises(ValueError):
                await ann.pay(inv)  # paid invoices show a receipt instead

            # Pressing the buy button pays too; concurrent replays are dispatched together.
            clock.advance(5)
            await ann.send("/buy order:43")
            again = await ann.press("Pay")
            assert again.ok and bot.seen["paid"][-1] == again.charge_id
            clock.advance(5)
            await ann.send("/buy order:44")
            together = await ann.pay(replays=3, together=True)
            assert bot.seen["paid"].count(together.charge_id) == 3 and together.charge_id in bot.seen["credited"]

            # The bot refuses an unknown payload: no charge, no service message.
            clock.advance(5)
            await ann.send("/buy bogus")
            refused = await ann.pay()
            assert not refused.ok and refused.error == "Unknown order"
            assert len(tg.payments) == 3
            with pytest.raises(errors.QueryIdInvalidError):  # one answer per query
                await bot(functions.messages.SetBotPrecheckoutResultsRequest(query_id=refused.query_id, success=True))
        finally:
            await bot.disconnect()

    run(scenario())


def test_refunds_are_recorded():
    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.send("/buy order:1")
            paid = await ann.pay()
            assert tg.stars_balance() == 50
            result = await bot(functions.payments.RefundStarsChargeRequest(user_id=ann.id, charge_id=paid.charge_id))
            assert isinstance(result, types.Updates)
            assert [(r.charge_id, r.user_id, r.amount, r.by) for r in tg.refunds] == [(paid.charge_id, ann.id, 50, "bot")]
            assert tg.payments[paid.charge_id].refunded and tg.stars_balance() == 0
            with pytest.raises(errors.BadRequestError) as err:
                await bot(functions.payments.RefundStarsChargeRequest(user_id=ann.id, charge_id=paid.charge_id))
            assert err.value.message == "CHARGE_ALREADY_REFUNDED"
            assert bot.seen["refunded"] == []  # the bot's own refund is not dispatched back to it
            refund_msg = ann.history[-1]
            assert isinstance(refund_msg.action, types.MessageActionPaymentRefunded) and refund_msg.from_bot

            status = await bot(functions.payments.GetStarsTransactionsRequest(
                peer=types.InputPeerSelf(), offset="", limit=10))
            assert status.balance.amount == 0
            assert [(t.amount.amount, bool(t.refund)) for t in status.history] == [(-50, True), (50, False)]
            assert status.history[1].bot_payload == b"order:1"

            # Telegram refunding on its own arrives as a service message.
            clock.advance(5)
            await ann.send("/buy order:2")
            second = await ann.pay()
            await ann.refund_externally(second.charge_id)
            assert bot.seen["refunded"] == [second.charge_id] and tg.refunds[-1].by == "external"
        finally:
            await bot.disconnect()

    run(scenario())


def test_bot_api_face_refunds_and_lists_stars_transactions(monkeypatch):
    """Processes without the MTProto session use the Bot API over HTTP (``simtg.botapi``); a refund
    made there reaches the bot's session as Telegram would show it."""
    import httpx

    from bananapics import botapi
    from bananapics.bot.stars import TelethonStars
    from bananapics.errors import ChargeAlreadyRefunded, TelegramError
    from bananapics.simtg.botapi import transport

    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            charges = []
            for n in range(3):
                clock.advance(5)
                await ann.send(f"/buy order:{n}")
                charges.append((await ann.pay()).charge_id)
            api = botapi.BotApi(tg.bot_token, transport=transport(tg))
            assert (await asyncio.to_thread(api.call, "getMe"))["id"] == tg.bot.id
            clock.advance(5)
            await asyncio.to_thread(api.refund_charge, ann.id, charges[0])  # from a worker thread
            await tg.settle()
            assert tg.payments[charges[0]].refunded and tg.refunds[-1].by == "bot"
            assert bot.seen["refunded"] == [charges[0]]  # pushed to the bot's session
            with pytest.raises(ChargeAlreadyRefunded):
                await asyncio.to_thread(api.refund_charge, ann.id, charges[0])
            with pytest.raises(TelegramError, match="CHARGE_ID_INVALID"):
                await asyncio.to_thread(api.refund_charge, ann.id, "nope")
            raw = await asyncio.to_thread(api.call, "getStarTransactions", offset=0, limit=100)
            rows = raw["transactions"]
            assert [("source" in r, "receiver" in r) for r in rows] == [(True, False)] * 3 + [(False, True)]
            assert rows[0]["source"] == {"type": "user", "transaction_type": "invoice_payment",
                                         "user": {"id": ann.id, "is_bot": False, "first_name": "Ann",
                                                  "language_code": "en"},
                                         "invoice_payload": "order:0"}
            monkeypatch.setattr(botapi, "PAGE", 2)  # page through it
            listed, complete = await asyncio.to_thread(api.transactions)
            assert complete and [(t.id, t.refund, t.amount, t.user_tg_id, t.payload) for t in listed] == [
                (charges[0], False, 50, ann.id, "order:0"), (charges[1], False, 50, ann.id, "order:1"),
                (charges[2], False, 50, ann.id, "order:2"), (charges[0], True, 50, ann.id, "order:0")]
            assert (await asyncio.to_thread(api.transactions, max_pages=1))[1] is False
            # the same history through the bot's own client (MTProto)
            mtproto = TelethonStars(bot, asyncio.get_running_loop())
            listed2, complete2 = await asyncio.to_thread(mtproto.transactions)
            assert complete2 and sorted((t.id, t.refund) for t in listed2) == sorted((t.id, t.refund) for t in listed)
            with pytest.raises(ChargeAlreadyRefunded):
                await asyncio.to_thread(mtproto.refund_charge, ann.id, charges[0])
            wrong = botapi.BotApi("1:nope", transport=transport(tg))
            with pytest.raises(TelegramError, match="rejected the bot token"):
                await asyncio.to_thread(wrong.call, "getMe")
            with pytest.raises(TelegramError, match="Not Found"):
                await asyncio.to_thread(api.call, "sendRocket")
            down = botapi.BotApi(tg.bot_token, transport=httpx.MockTransport(
                lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused"))))
            with pytest.raises(TelegramError) as err:
                down.call("getMe")
            assert err.value.error == "NETWORK" and tg.bot_token not in str(err.value)
        finally:
            await bot.disconnect()

    run(scenario())


def test_bot_commands_are_recorded_per_scope_and_language():
    async def scenario():
        tg, clock, bot = await started()
        try:
            admin = SimUser(tg, "Admin")
            await admin.send("hi")
            cmds = [types.BotCommand("start", "Main menu"), types.BotCommand("help", "Help")]
            await bot(functions.bots.SetBotCommandsRequest(scope=types.BotCommandScopeDefault(), lang_code="", commands=cmds))
            await bot(functions.bots.SetBotCommandsRequest(
                scope=types.BotCommandScopeDefault(), lang_code="ru",
                commands=[types.BotCommand("start", "Главное меню")]))
            await bot(functions.bots.SetBotCommandsRequest(
                scope=types.BotCommandScopePeer(peer=await bot.get_input_entity(admin.id)), lang_code="",
                commands=cmds + [types.BotCommand("admin", "Admin panel")]))
            assert tg.commands_for() == [("start", "Main menu"), ("help", "Help")]
            assert tg.commands_for(lang_code="ru") == [("start", "Главное меню")]
            assert tg.commands_for(lang_code="uz") is None
            peer_scope = types.BotCommandScopePeer(peer=types.InputPeerUser(admin.id, 0))
            assert [c for c, _ in tg.commands_for(peer_scope)] == ["start", "help", "admin"]
            got = await bot(functions.bots.GetBotCommandsRequest(scope=types.BotCommandScopeDefault(), lang_code="ru"))
            assert [(c.command, c.description) for c in got] == [("start", "Главное меню")]
            with pytest.raises(errors.BotCommandInvalidError):
                await bot(functions.bots.SetBotCommandsRequest(
                    scope=types.BotCommandScopeDefault(), lang_code="", commands=[types.BotCommand("Start!", "x")]))
            with pytest.raises(errors.LangCodeInvalidError):
                await bot(functions.bots.SetBotCommandsRequest(
                    scope=types.BotCommandScopeDefault(), lang_code="russian", commands=cmds))
            await bot(functions.bots.ResetBotCommandsRequest(scope=types.BotCommandScopeDefault(), lang_code="ru"))
            assert tg.commands_for(lang_code="ru") is None
        finally:
            await bot.disconnect()

    run(scenario())


def test_login_catch_up_handler_errors_and_unsimulated_requests(tmp_path):
    async def scenario():
        tg = FakeTelegram(clock=ManualClock())
        path = str(tmp_path / "bot")
        bot = make_bot(tg, session=SQLiteSession(path), authorized=False)
        await bot.connect()
        assert bot.is_connected() and not await bot.is_user_authorized()
        with pytest.raises(errors.AccessTokenInvalidError):
            await bot.start(bot_token="1:wrong")
        await bot.start(bot_token=tg.bot_token)
        assert (await bot.get_me()).username == tg.bot.username
        await bot.catch_up()  # harmless: nothing missed
        ann = SimUser(tg, "Ann")
        await ann.send("hello")
        assert ann.texts == ["echo: hello"]
        with pytest.raises(BotHandlerError) as err:
            await ann.send("boom")
        assert isinstance(err.value.__cause__, RuntimeError)
        with pytest.raises(NotSimulatedError):
            await bot(functions.messages.GetStickersRequest(emoticon="🍌", hash=0))
        await bot.disconnect()

        # While the bot is offline the user writes; a restart with the same session catches up.
        await ann.send("while you were away")
        assert ann.texts == ["echo: hello"]
        bot2 = make_bot(tg, session=SQLiteSession(path), authorized=False, catch_up=True)
        await bot2.start(bot_token=tg.bot_token)  # the session is still logged in
        assert len(tg.requests_of(functions.auth.ImportBotAuthorizationRequest)) == 1
        await bot2.settle()
        assert ann.texts == ["echo: hello", "echo: while you were away"]
        await bot2.disconnect()

    run(scenario())


def test_settle_waits_for_background_work_the_bot_started():
    async def scenario():
        tg = FakeTelegram(clock=ManualClock(), settle_timeout=0.5)
        bot = SimClient(telegram=tg)
        forever = []

        @bot.on(events.NewMessage(pattern="^later$"))
        async def later(event):
            async def deliver():  # fire-and-forget, like handing work to a queue consumer
                await asyncio.sleep(0.05)
                await event.respond("done later")
            asyncio.create_task(deliver())

        @bot.on(events.NewMessage(pattern="^daemon$"))
        async def daemon(event):
            forever.append(asyncio.create_task(asyncio.Event().wait()))

        await bot.start(bot_token=tg.bot_token)
        ann = SimUser(tg, "Ann")
        await ann.send("later")
        assert ann.texts == ["done later"]
        with pytest.raises(SettleTimeout):  # a task started during the action that never ends…
            await ann.send("daemon")
        tg.ignore_task(forever[0])  # …can be excused
        await bot.settle()
        forever[0].cancel()
        await bot.disconnect()

    run(scenario())


def test_stickers_voice_and_video_arrive_with_their_telegram_attributes():
    async def scenario():
        tg, clock, bot = await started()
        kinds = []

        @bot.on(events.NewMessage(func=lambda e: e.document is not None))
        async def kind(event):
            m = event.message
            kinds.append((bool(m.sticker), bool(m.voice), bool(m.video), bool(m.video_note), m.file.mime_type,
                          await m.download_media(bytes)))

        try:
            ann = SimUser(tg, "Ann")
            buf = io.BytesIO()
            Image.new("RGBA", (512, 512), (255, 200, 0, 128)).save(buf, "WEBP")
            sticker = await ann.send_sticker(buf.getvalue(), "🍌")
            attrs = sticker.raw.media.document.attributes
            assert any(isinstance(a, types.DocumentAttributeSticker) and a.alt == "🍌" for a in attrs)
            assert types.DocumentAttributeImageSize(512, 512) in attrs
            clock.advance(5)
            await ann.send_voice(b"OggS voice", duration=4)
            clock.advance(5)
            await ann.send_video(b"mp4 video", caption="look")
            clock.advance(5)
            await ann.send_video(b"mp4 round", round_message=True)
            assert kinds == [
                (True, False, False, False, "image/webp", buf.getvalue()),
                (False, True, False, False, "audio/ogg", b"OggS voice"),
                (False, False, True, False, "video/mp4", b"mp4 video"),
                (False, False, True, True, "video/mp4", b"mp4 round"),
            ]
            assert [m.media_kind for m in ann.history if not m.from_bot] == ["document"] * 4
        finally:
            await bot.disconnect()

    run(scenario())


def test_injected_failures_and_expired_file_references():
    class Crash(BaseException):
        pass

    async def scenario():
        tg, clock, bot = await started()
        try:
            ann = SimUser(tg, "Ann")
            await ann.send("hi")
            tg.inject(functions.messages.SendMessageRequest, "FLOOD_WAIT_3", skip=1)
            await bot.send_message(ann.id, "passes")  # skip=1: the first one goes through
            with pytest.raises(errors.FloodWaitError) as flood:
                await bot.send_message(ann.id, "refused")
            assert flood.value.seconds == 3 and tg.flood_waits == []
            clock.advance(4)  # Telethon's own flood memory follows the simulated clock
            tg.inject(functions.messages.SendMessageRequest, "USER_IS_BLOCKED")
            with pytest.raises(errors.UserIsBlockedError):
                await bot.send_message(ann.id, "blocked once")
            tg.inject(functions.messages.SendMessageRequest, Crash())
            with pytest.raises(Crash):
                await bot.send_message(ann.id, "the process dies here")
            await bot.send_message(ann.id, "back to normal")
            assert ann.texts[-2:] == ["passes", "back to normal"]

            clock.advance(5)
            media = await bot(functions.messages.UploadMediaRequest(
                peer=ann.id, media=types.InputMediaUploadedPhoto(file=await bot.upload_file(named(png(), "a.png")))))
            photo = media.photo
            by_ref = types.InputMediaPhoto(types.InputPhoto(photo.id, photo.access_hash, photo.file_reference))
            await bot(functions.messages.SendMediaRequest(peer=ann.id, media=by_ref, message=""))
            assert tg.expire_file_references() >= 1
            clock.advance(5)
            with pytest.raises(errors.FileReferenceExpiredError):
                await bot(functions.messages.SendMediaRequest(peer=ann.id, media=by_ref, message=""))
            forged = types.InputMediaPhoto(types.InputPhoto(photo.id, photo.access_hash, b"forged"))
            with pytest.raises(errors.FileReferenceInvalidError):
                await bot(functions.messages.SendMediaRequest(peer=ann.id, media=forged, message=""))
            fresh = ann.last.raw.media.photo  # what Telegram returns now carries the new reference
            await bot(functions.messages.SendMediaRequest(peer=ann.id, message="", media=types.InputMediaPhoto(
                types.InputPhoto(fresh.id, fresh.access_hash, fresh.file_reference))))
            assert ann.last.file == png()
        finally:
            await bot.disconnect()

    run(scenario())
