"""Templates and trending: categories, templates (title and prompt in uz/ru/en, model and settings
defaults, preview image key, active/pinned/order), one row per generation that used a template,
the photo flag of a user's panel, a (user, created_at) index for history pages, the
``trending.days`` setting and a starter set of templates."""

import datetime
import json

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


CATEGORIES = [
    # slug, uz, ru, en
    ("portrait", "👤 Portretlar", "👤 Портреты", "👤 Portraits"),
    ("art", "🎨 Badiiy uslublar", "🎨 Художественные стили", "🎨 Art styles"),
    ("business", "🛍 Mahsulot va reklama", "🛍 Товары и реклама", "🛍 Products & ads"),
    ("fun", "🎉 Bayram va ko‘ngilochar", "🎉 Праздники и веселье", "🎉 Fun & holidays"),
]

# category, model, settings, pinned, {lang: (title, prompt)}
TEMPLATES = [
    ("portrait", "nano-banana", {"aspect_ratio": "3:4"}, True, {
        "uz": ("Studiya portreti",
               "Ilova qilingan fotosuratdagi odamni professional studiya portretiga aylantiring: yumshoq asosiy "
               "yorug‘lik, neytral kulrang fon, ko‘zlarga aniq fokus, tabiiy teri teksturasi, 85 mm obyektiv uslubi."),
        "ru": ("Студийный портрет",
               "Преврати человека с приложенного фото в профессиональный студийный портрет: мягкий рисующий свет, "
               "нейтральный серый фон, резкий фокус на глазах, естественная текстура кожи, как на объектив 85 мм."),
        "en": ("Studio portrait",
               "Turn the person in the attached photo into a professional studio portrait: soft key light, neutral "
               "grey backdrop, sharp focus on the eyes, natural skin texture, 85 mm lens look."),
    }),
    ("portrait", "nano-banana-pro", {"aspect_ratio": "4:5"}, False, {
        "uz": ("Biznes portret",
               "Fotosuratdagi odamning LinkedIn uchun biznes portreti: to‘q ko‘k kostyum, oq ko‘ylak, xiralashgan "
               "zamonaviy ofis foni, samimiy va ishonchli tabassum, yumshoq kunduzgi yorug‘lik."),
        "ru": ("Деловой портрет",
               "Деловой портрет человека с фото для LinkedIn: тёмно-синий костюм, белая рубашка, размытый фон "
               "современного офиса, дружелюбная уверенная улыбка, мягкий дневной свет."),
        "en": ("Business headshot",
               "A LinkedIn business headshot of the person in the photo: navy suit, white shirt, blurred modern "
               "office background, friendly confident smile, soft daylight."),
    }),
    ("portrait", "seedream-4", {"aspect_ratio": "2:3"}, False, {
        "uz": ("Retro plyonka",
               "Fotosuratdagi odam 1970-yillar plyonkali suratida: iliq, biroz o‘chgan ranglar, plyonka donadorligi, "
               "oltin soat yorug‘ligi, retro kiyimlar."),
        "ru": ("Ретро-плёнка",
               "Человек с фото на плёночной фотографии 1970-х: тёплые выцветшие цвета, плёночное зерно, свет "
               "золотого часа, ретро-одежда."),
        "en": ("Vintage film",
               "The person in the photo in a 1970s film photograph: warm faded colours, film grain, golden-hour "
               "light, retro clothing."),
    }),
    ("art", "seedream-4", {"aspect_ratio": "3:2"}, False, {
        "uz": ("Akvarel shahar",
               "Quyosh botayotgan paytdagi eski shahar ko‘chasining erkin akvarel rasmi: to‘q sariq va binafsha "
               "ranglarning yumshoq qatlamlari, tush bilan chizilgan konturlar, qog‘oz teksturasi."),
        "ru": ("Акварельный город",
               "Свободная акварель старой городской улицы на закате: мягкие заливки оранжевого и фиолетового, "
               "контуры тушью, фактура бумаги."),
        "en": ("Watercolour city",
               "A loose watercolour painting of an old city street at sunset: soft washes of orange and violet, "
               "ink outlines, paper texture."),
    }),
    ("art", "nano-banana", {"aspect_ratio": "1:1"}, True, {
        "uz": ("3D multfilm qahramoni",
               "Fotosuratdagi odamni yoqimli 3D multfilm qahramoniga aylantiring: katta ifodali ko‘zlar, yumshoq "
               "studiya yorug‘ligi, animatsion film uslubi, rang-barang fon."),
        "ru": ("3D-мультперсонаж",
               "Преврати человека с фото в милого 3D-мультперсонажа: большие выразительные глаза, мягкий студийный "
               "свет, стиль анимационного фильма, яркий фон."),
        "en": ("3D cartoon character",
               "Turn the person in the photo into a cute 3D cartoon character: big expressive eyes, soft studio "
               "lighting, animated-film style, colourful background."),
    }),
    ("art", "seedream-4", {"aspect_ratio": "16:9"}, False, {
        "uz": ("Anime manzara",
               "Anime uslubidagi manzara: yashil tepaliklar, kichkina uy, ulkan yozgi bulutlar, yorqin moviy osmon, "
               "qo‘lda chizilgan batafsil fon, keng kinematografik kadr."),
        "ru": ("Аниме-пейзаж",
               "Пейзаж в стиле аниме: зелёные холмы, маленький домик, огромные летние облака, ярко-голубое небо, "
               "детальный рисованный фон, широкий кинематографичный кадр."),
        "en": ("Anime landscape",
               "An anime-style landscape: green hills, a small house, towering summer clouds, bright blue sky, "
               "detailed hand-painted background, cinematic wide shot."),
    }),
    ("business", "nano-banana-pro", {"aspect_ratio": "1:1"}, True, {
        "uz": ("Marmardagi mahsulot",
               "Ilova qilingan fotosuratdagi mahsulotning premium surati: oq marmar stol ustida, derazadan tushayotgan "
               "yumshoq tonggi yorug‘lik, nozik soyalar, minimalizm, tijoriy fotosurat."),
        "ru": ("Товар на мраморе",
               "Премиальное фото товара с приложенного снимка на белом мраморном столе: мягкий утренний свет из окна, "
               "лёгкие тени, минимализм, коммерческая съёмка."),
        "en": ("Product on marble",
               "A premium photo of the product in the attached photo on a white marble table: soft morning light "
               "from a window, subtle shadows, minimalist commercial photography."),
    }),
    ("business", "gpt-image", {"aspect_ratio": "3:2", "quality": "medium"}, False, {
        "uz": ("Menyu uchun taom",
               "Restoran menyusi uchun ishtahani ochuvchi surat: an’anaviy ko‘k o‘zbek laganida palov, ko‘tarilayotgan "
               "bug‘, yuqoridan ko‘rinish, iliq yorug‘lik, to‘q rangli yog‘och stol."),
        "ru": ("Блюдо для меню",
               "Аппетитное фото для меню ресторана: плов на традиционном синем узбекском лягане, поднимается пар, "
               "вид сверху, тёплый свет, тёмный деревянный стол."),
        "en": ("Menu food photo",
               "An appetising restaurant menu photo: plov on a traditional blue Uzbek ceramic platter, rising steam, "
               "top-down view, warm light, dark wooden table."),
    }),
    ("business", "gpt-image", {"aspect_ratio": "2:3", "quality": "high"}, False, {
        "uz": ("Chegirma posteri",
               "Katta “CHEGIRMA −50%” sarlavhali yorqin reklama posteri: qalin zamonaviy shrift, xarid sumkalari va "
               "konfetti, sariq-qizil ranglar, logotip uchun bo‘sh joy qoldirilgan toza kompozitsiya."),
        "ru": ("Постер распродажи",
               "Яркий рекламный постер с крупным заголовком «СКИДКА −50%»: жирный современный шрифт, пакеты с "
               "покупками и конфетти, жёлто-красная палитра, чистая композиция с местом для логотипа."),
        "en": ("Sale poster",
               "A bright promotional poster with the large headline “SALE −50%”: bold modern typography, shopping "
               "bags and confetti, yellow and red palette, clean layout with space for a logo."),
    }),
    ("fun", "nano-banana", {"aspect_ratio": "4:3"}, False, {
        "uz": ("Navro‘z tabrigi",
               "Bayramona Navro‘z tabriknomasi: katta qozonda sumalak, bahorgi lolalar va gullagan o‘rik daraxtlari, "
               "yorqin so‘zana naqshlari, iliq quyoshli ranglar, “Navro‘z muborak!” yozuvi."),
        "ru": ("Открытка на Навруз",
               "Праздничная открытка к Наврузу: сумаляк в большом казане, весенние тюльпаны и цветущие абрикосы, "
               "яркие узоры сюзане, тёплые солнечные цвета, надпись «Navro‘z muborak!»."),
        "en": ("Navruz greeting card",
               "A festive Navruz greeting card: sumalak in a large cauldron, spring tulips and blossoming apricot "
               "trees, bright suzani patterns, warm sunny colours, the text “Navro‘z muborak!”."),
    }),
    ("fun", "nano-banana", {"aspect_ratio": "1:1"}, False, {
        "uz": ("Kosmonavt uy hayvoni",
               "Fotosuratdagi uy hayvoni kosmosda suzib yurgan kosmonavt sifatida: batafsil skafandr, orqa fonda Yer, "
               "yulduzlar, quvnoq va realistik."),
        "ru": ("Питомец-космонавт",
               "Питомец с фото в роли космонавта в открытом космосе: детализированный скафандр, Земля на фоне, "
               "звёзды, весело и реалистично."),
        "en": ("Astronaut pet",
               "The pet in the photo as an astronaut floating in space: a detailed space suit, Earth in the "
               "background, stars, playful and realistic."),
    }),
    ("fun", "seedream-4", {"aspect_ratio": "2:3"}, False, {
        "uz": ("Men — superqahramon",
               "Fotosuratdagi odam komiks superqahramoni sifatida: tom ustida dinamik poza, shamolda hilpirayotgan "
               "plash, tungi shahar chiroqlari, qalin komiks ranglari."),
        "ru": ("Я — супергерой",
               "Человек с фото в образе супергероя из комикса: динамичная поза на крыше, развевающийся плащ, огни "
               "ночного города, сочные комиксные цвета."),
        "en": ("Superhero me",
               "The person in the photo as a comic-book superhero: dynamic pose on a rooftop, cape flying in the "
               "wind, night city lights, bold comic colours."),
    }),
]


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        id = pw.BigAutoField()

        class Meta:
            table_name = "users"

    class TemplateCategory(Base):
        slug = pw.CharField(max_length=32, primary_key=True)
        name_uz = pw.CharField(max_length=48)
        name_ru = pw.CharField(max_length=48)
        name_en = pw.CharField(max_length=48)
        sort = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "template_categories"

    class Template(Base):
        id = pw.AutoField()
        category = pw.ForeignKeyField(TemplateCategory, column_name="category", on_delete="RESTRICT",
                                      on_update="CASCADE")
        title_uz = pw.CharField(max_length=64)
        title_ru = pw.CharField(max_length=64)
        title_en = pw.CharField(max_length=64)
        prompt_uz = pw.TextField()
        prompt_ru = pw.TextField()
        prompt_en = pw.TextField()
        model = pw.CharField(max_length=32, null=True)
        settings = pw.TextField(default="{}")
        preview_key = pw.CharField(max_length=255, null=True)
        active = pw.BooleanField(default=True)
        pinned = pw.BooleanField(default=False)
        sort = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "templates"
            indexes = ((("active", "category", "sort"), False),)

    class TemplateUse(Base):
        id = pw.BigAutoField()
        template = pw.ForeignKeyField(Template, on_delete="CASCADE", index=False)
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        job_id = pw.CharField(max_length=32, unique=True)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "template_uses"
            indexes = ((("template", "created_at"), False), (("created_at",), False))

    db.create_tables([TemplateCategory, Template, TemplateUse])
    migrator.migrate(migrator.add_column("panels", "media", pw.BooleanField(default=False)))
    db.execute_sql("CREATE INDEX jobs_user_created ON jobs (user_id, created_at)")

    now = _now()
    p = db.param
    for sort, (slug, uz, ru, en) in enumerate(CATEGORIES):
        db.execute_sql(
            "INSERT INTO template_categories (slug, name_uz, name_ru, name_en, sort, created_at)"
            f" VALUES ({p}, {p}, {p}, {p}, {p}, {p})", (slug, uz, ru, en, sort * 10, now))
    for sort, (category, model, settings, pinned, texts) in enumerate(TEMPLATES):
        db.execute_sql(
            "INSERT INTO templates (category, title_uz, title_ru, title_en, prompt_uz, prompt_ru, prompt_en, model,"
            " settings, preview_key, active, pinned, sort, created_at, updated_at)"
            f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, {p}, {p}, {p}, {p}, {p})",
            (category, texts["uz"][0], texts["ru"][0], texts["en"][0], texts["uz"][1], texts["ru"][1],
             texts["en"][1], model, json.dumps(settings), True, pinned, sort * 10, now, now))
    db.execute_sql(
        "INSERT INTO settings (key, type, value, version, updated_at, updated_by)"
        f" VALUES ('trending.days', 'int', '7', 1, {p}, 'migration')", (now,))


def down(migrator, db):
    db.execute_sql("DELETE FROM settings WHERE key = 'trending.days'")
    db.execute_sql("DROP INDEX jobs_user_created")
    migrator.migrate(migrator.drop_column("panels", "media"))
    for table in ("template_uses", "templates", "template_categories"):
        db.execute_sql(f"DROP TABLE {table}")
