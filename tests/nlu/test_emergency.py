"""The emergency lexicon: dialect, SMS and typo spellings, each with its topic."""

from __future__ import annotations

import pytest

from nlu import emergency
from nlu.normalize import normalize


@pytest.mark.parametrize(("text", "topic"), [
    ("he is not responding and his lips are grey", "health"),
    ("my uncle had a heart atack", "health"),
    ("il repond plus du tout", "health"),
    ("elle a bu de la javel", "health"),
    ("صدمته سيارة قدام الدار", "health"),
    ("ما بقاش كيجاوب", "health"),
    ("they are threatening to kill my brother", "safety"),
    ("les passeurs menacent de tuer mon fils", "safety"),
    ("ils me cherchent partout", "safety"),
    ("الحقوني عافاكم", "safety"),
    ("a man with a weapon is at the gate", "safety"),
    ("im thinking about killing my self", "psychosocial"),
    ("there's no point living like this", "psychosocial"),
    ("jai envi de mourir", "psychosocial"),
    ("بدها تموت هالليلة", "psychosocial"),
    ("ناوي انتحر", "psychosocial"),
    ("my father is unconcious", "health"),
    ("on entend des coups de feu dehors", "safety"),
    ("كيخنقني وما نقدرش نهرب", "safety"),
    ("men with knives are at our door", "safety"),
    ("on nous tire dessus", "safety"),
    ("رجال مسلحين قدام الدار", "safety"),
    ("elle perd les eaux", "health"),
    ("مراتي نزل ليها الما", "health"),
    ("i have the pills ready", "psychosocial"),
    ("بدي اخلص من حياتي", "psychosocial"),
    ("il a laissé une lettre et il est parti vers le fleuve", "psychosocial"),
    ("ma soeur fait ses adieux sur facebook", "psychosocial"),
    ("he left a note and walked to the river", "psychosocial"),
    ("كيودع الناس وكيقول سمحو ليا", "psychosocial"),
    ("we are stranded in the desert, the driver left", "safety"),
    ("on est perdus dans le desert depuis hier", "safety"),
    ("راني دابا فوسط الصحرا والماء كمل", "safety"),
    ("حاطينا ف دار وما كيخليوناش نخرجو", "safety"),
    ("please tell my mum sorry, i won't be alive by morning", "psychosocial"),
    ("quand je serai plus là occupez vous de ma mère", "psychosocial"),
    ("مش هتسمعوا صوتي تاني", "psychosocial"),
    ("راه مشى للبحر وقال ما يرجع", "psychosocial"),
    ("my husband is coming with an axe", "safety"),
    ("ñu ngi dóor sama yaay léegi", "safety"),
    ("قال غيحرقني بالبنزين الليلة", "safety"),
    ("he has been two days without food or water and can't get up", "health"),
    ("ma mère est sans manger ni boire depuis trois jours", "health"),
    ("البيبي ولا رخو وما كيحلش عينيه", "health"),
    ("قاعدة على الشباك ودي اخر حاجة هكتبها", "psychosocial"),
    ("im at the edge of the quarry now", "psychosocial"),
    ("je suis sur le toit du marché", "psychosocial"),
    ("مرتي تحرقت في وجهها والجلد طايح", "health"),
    ("vous entendrez plus jamais parler de moi", "psychosocial"),
    ("اليوم اخر نهار ليا", "psychosocial"),
    ("الشفرة في يدي وما بقيت قادر", "psychosocial"),
    ("خويا طاح وما بيتنفس", "health"),
    ("البنت كتتنفس بالسيف", "health"),
    ("كاين راجل بالسيف قدام الباب", "safety"),
    ("خداو بنتي بالسيف فطوموبيل", "safety"),
    ("واحد جا بجركان بنزين قدام الدار", "safety"),
    ("السجانين قالوا غادي يبيعوهم الليلة", "safety"),
    ("هاز الفردي ف يدو وكيغوت", "safety"),
    ("مرتي ولدات ودمها ما وقفش", "health"),
    ("this is my last text to anyone", "psychosocial"),
    ("they want to burn our house tonight", "safety"),
    ("ولدي بلع حجرة صغيرة", "health"),
    ("i will not eat again until god takes me", "psychosocial"),
    ("نبي نقص عروقي", "psychosocial"),
    ("dinaa dee tey", "psychosocial"),
    ("her heart is beating fast and she fainted twice", "health"),
    ("ماسكين خويا ف الدار", "safety"),
])
def test_dialect_sms_and_typo_emergencies_are_caught(text: str, topic: str) -> None:
    hit = emergency.detect(normalize(text))
    assert hit is not None and hit.topic == topic


@pytest.mark.parametrize("text", [
    "mon conseiller ne repond pas, j'en veux un autre",
    "i am looking for a job in Thiès",
    "كيفاش نسجل ولدي فالمدرسة؟",
    "j'ai les larmes aux yeux quand je pense a ma mere",
    "ولدي محتاج قلم رصاص للمدرسة",
    "on m'a abandonné dans le désert au Niger l'an dernier, j'ai droit à une aide ?",
    "ودعت الناس قبل ما نسافر",
    "ما قدرناش نخرجو من الدار بسبب الشتا",
    "ولدي مازال برا البلاد، واش يقدر يسجل؟",
    "ما عاد احتاج المساعدة، لقيت خدمة",
    "I left the door open for the case worker",
    "demain je voyage à Touba, je serai pas là pour le rendez-vous",
    "المسكين ما عندو حتى شهادة ميلاد",
    "الكارطه تاعي تحرقت في الصحرا",
    "il reste enfermé dans sa chambre depuis son retour",
    "كل ليلة كيفيق كيغوت",
    "كم يستغرق ملف جواز السفر؟",
    "comment demander l'hébergement d'urgence ?",
    "ممكن حد يضرب لي؟",
    "فين كيبيعو الحولي رخيص؟",
    "البنزين غلا بزاف",
    "راني نكتب بالسيف، ما نعرفش نقرا مزيان",
    "Quelle frappe de Sadio hier !",
    "ils enlèvent des frais sur Wave ?",
    "mon frère répond plus à mes appels depuis trois mois",
    "ابن عمي ما عاد يرد على التلفون من شهور",
    "تلفوني ما شحنش",
    "الجو سخون بزاف اليوم",
    "بغيت ندير مشروع فردي",
    "ولدي بلعب الكورة برا",
    "سكن الطوارئ كيف ندخلو؟",
    "النسا اللي يبيعو ف السوق",
    "how do I request emergency shelter?",
    "my heart starts beating fast when I hear trucks",
    "كانو ماسكين جوازاتنا",
    "the wound is not bleeding anymore",
])
def test_ordinary_requests_are_not_emergencies(text: str) -> None:
    assert emergency.detect(normalize(text)) is None


@pytest.mark.parametrize(("text", "calm"), [
    ("I was kidnapped in Sabha in 2022, now I am safe at home", True),
    ("on m'a séquestré à Agadez il y a deux ans, c'est du passé", True),
    ("كنت محبوس ف ليبيا العام اللي فات، دابا انا ف امان", True),
    ("ils m'ont frappé au visage, c pas urgent mais j'ai mal aux dents", True),
    ("they kidnapped my son an hour ago", False),
    ("ils me frappent maintenant", False),
    ("خطفو ولدي دابا", False),
    ("I can't breathe from laughing 😂", True),
    ("dans le film il la poignarde, j'ai pleuré", True),
    ("الضحك غيقتلني", True),
    ("ما كنتش مخطوف، بغيت غير نعرف حقوقي", True),
])
def test_a_danger_told_as_over_or_not_urgent_is_marked_calm(text: str, calm: bool) -> None:
    hit = emergency.detect(normalize(text))
    assert hit is not None and hit.calm is calm
