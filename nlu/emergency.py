"""A multilingual emergency lexicon that backs the classifier: recall first.

A missed emergency is the worst error the product can make, so any of these patterns on
the normalised text (see `nlu.normalize`: lower case, French accents folded, Arabic letters
unified) makes the message an emergency. Each group names the topic to answer with:
self-harm -> psychosocial, violence, threats and trafficking -> safety, urgent medical ->
health. Patterns describe danger happening now; questions about past events ("I was
trafficked, is there help?") are left to the classifier, and a hit in a text that tells
the danger as over or not urgent is marked `calm` (`_CALM`). A text is searched only with the
patterns whose literals it holds, which finds what the whole list would (see `_Lexicon`).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from itertools import chain
from typing import Any

from nlu.normalize import ARABIC_LETTERS

_SELF_HARM = [
    # en
    r"\b(kill|hurt|harm|cut) (my ?self|myself)\b", r"\bsuicid", r"\bend (it all|my life)\b",
    r"\b(want|wanna|going) to die\b", r"\bwanna die\b", r"\bdon'?t want to (live|be alive)\b",
    r"\bno reason to live\b", r"\bbetter (off dead|i die)\b", r"\btake my (own )?life\b",
    r"\bending my life\b", r"\boverdos", r"\bpills? in my hand\b", r"\bgoodbye letter\b",
    r"\b(will|going to|gonna) jump\b", r"\bthe rope\b", r"\b(killing|hurting) (him|her)self\b",
    r"\bend it (tonight|now|today)\b", r"\b(want to|going to|gonna) end it\b",
    r"\bfinish everything\b", r"\btook all (my|the) pills\b", r"\bnobody will miss me\b",
    r"\b(want to|about to|going to|gonna|will) jump\b", r"\bdisappear forever\b",
    r"\bset (him|her|my)sel\w* on fire\b", r"\bhang (my|him|her)self\b",
    r"\bgoodbye to everyone\b", r"\b(talked|talking|talks) about dying\b",
    r"\bnever wake up\b", r"\blast (message|text)\b", r"\bwon'?t be here tomorrow\b",
    r"\b(the )?last time i (write|talk|speak) to\b", r"\buntil god takes me\b",
    r"\bgave away (all )?my (things|stuff)\b", r"\bbetter off without me\b",
    r"\btonight it (stops|ends)\b", r"\bburning my (arm|skin)\b", r"\bwrists?\b",
    r"\bwalk into the (sea|river)\b", r"\bin heaven\b", r"\bdon'?t look for me\b",
    r"\ba burden to\b", r"\bsee the sunrise\b", r"\bedge of the (well|bridge|roof|quarry|cliff)\b",
    r"\b(kill|hurt|harm|cut)(ing|s)? (my ?self|him ?self|her ?self|themselves)\b",
    r"\bend everything\b", r"\bcutting my (arms?|wrists?|skin|legs?)\b",
    r"\bno point (in )?living\b", r"\bwants to die\b", r"\bthrow (my|him|her)self\b",
    r"\brazor\b",
    r"\b(don'?t|dont) want to wake up\b", r"\b(i|he|she)'?ll jump\b",
    r"\bdisap+ear (for good|forever)\b",
    r"\bending it all\b",
    r"\b(pills|tablets) ready\b", r"\btaking (them|it) all\b",
    r"\b(posted|sent|wrote) (a )?goodbye\b", r"\bsaying goodbye to (everyone|everybody|people)\b",
    r"\b(wrote|left) (a|his|her) note\b.{0,80}"
    r"\b(walked|went|headed) (to|towards) the (river|sea|bridge)\b",
    r"\b(won'?t|will not) be (alive|around)\b", r"\bafter tonight\b(?!'s)",
    r"\b(i'?m|i am) on the roof\b", r"\bje suis sur le toit\b",
    r"\b(shared|gave away|gave out|distributed) (all )?my (goats|animals|things|stuff|clothes)\b",
    r"\b(today|tonight) (will be|is) my last\b", r"\bmy last day\b",
    r"\bforgive me for what i('?m| am)? (going to|about to|will) do\b",
    # fr
    r"\b(me|se) (tuer|suicider|pendre|faire du mal)\b", r"\bmettre fin a (mes jours|ma vie)\b",
    r"\ben finir\b", r"(veux|veut|veu|ve|vx|envie de|mieux vaut) mourir\b",
    r"\bplus (envie de )?vivre\b", r"\braison de vivre\b", r"\bme jeter\b", r"\bfait du mal\b",
    r"\blettre d'adieu\b", r"\b(va|vais) (sauter|tout avaler)\b", r"\bla corde\b",
    r"\bavale toutes mes\b", r"\bpersonne (va|ne va) me regretter\b", r"\badieu a tout le monde\b",
    r"\bdisparaitre pour toujours\b", r"\bfatigue de vivre\b", r"\bj'?arrete tout\b",
    r"\bs'immoler\b", r"\bparlait de mourir\b", r"\b(begg|dinaa) dee\b",
    r"\bjamais me reveiller\b", r"\bdernier message\b",
    r"\bdites a (ma mere|\w+ que je (l'?aime|les aime))\b", r"\bau ciel\b",
    r"\bdonne toutes mes affaires\b", r"\bmieux sans moi\b", r"\bca s'arrete\b",
    r"\bbrule le bras\b", r"\bpoignets?\b", r"\bmarcher dans la mer\b", r"\bme cherchez plus\b",
    r"\bfardeau\b", r"\blever du soleil\b", r"\bdama sonn\b",
    r"\bbord (du|de la) (puits|pont|toit|carriere|falaise)\b",
    r"\bse jeter\b", r"\btoute la boite\b", r"\bdi[st] adieu\b", r"\bfai[st] (ses|mes) adieux\b",
    r"\bfin a (ses|sa) (jours|vie)\b",
    r"\benvie? de mourir\b",
    r"\bfoutre en l'?air\b", r"\bpour mourir\b",
    r"\b(medicaments|cachets|pilules) devant moi\b",
    r"\b(avale|pris)\w* tou(te)?s (les|mes|ses) (medicaments|cachets|pilules|comprimes)\b",
    r"\b(ecrit|laisse)\b.{0,80}\bparti\w* vers (le fleuve|la mer|le pont|le puits)\b",
    r"\b(ne )?serai plus (de ce monde|vivante?|en vie)\b",
    r"\b(quand|demain|ce soir|cette nuit) je (ne )?serai plus la\b",
    r"\bentendrez (plus|pas) (jamais )?parler de moi\b",
    r"\bc'?(est|etait) fini (pour|pr) moi\b(?! (pour )?(aujourd'hui|ce soir))",
    r"\bdans (une|quelques|\d+) (heures?|minutes?) tout\b",
    r"\b(bu|avale|pris) (le|du) (produit|poison)\b", r"\bproduit (pour|contre) les (souris|rats)\b",
    r"\bpardonne[zr]?[- ]moi pour ce que je vais\b",
    r"(يقتل|تقتل) (راسو|راسها|روحو|نفسه|نفسها)", r"ودي (اموت|انتحر)",
    # ar
    r"نتحر", r"انتحار", r"سم (ال)?(فيران|فار|فئران)", r"(نقتل|اقتل) (راسي|روحي|نفسي)",
    r"(بدي|ابي|عايز|بغيت|باغي) (اموت|موت|نموت)",
    r"اريد ان اموت", r"باش نموت", r"بدو يموت", r"(نعيش|اعيش|عيش)$", r"باغي نعيش",
    r"انهي حياتي", r"انهيها", r"يؤذي نفسه", r"جرحت (نفسي|راسي|روحي)", r"ارمي حالي",
    r"سبب (نبقى|ابقى) حي", r"رساله الوداع", r"احتمل الحياه", r"انهي كل شيء", r"لو مت",
    r"نلوح راسي", r"(نشنق|اشنق)", r"(ساقفز|اقفز|نقفز|نطيش راسي)", r"نجرح (راسي|روحي|نفسي)",
    r"ودع الجميع", r"(يودع|كيودع|تودع|كتودع) (الناس|الكل|الجميع)", r"اختفي من", r"يتحدث عن الموت",
    r"نسالي مع هاد الدنيا", r"عبء علي", r"نختفي", r"لا استيقظ", r"رسالتي الاخيره", r"قولوا لامي",
    r"في السماء", r"وزعت اغراضي", r"افضل بدوني", r"ينتهي كل شيء", r"دوا الطوبات", r"نحرق يدي",
    r"[نيت]سالي مع (راس[يوه]|حيات[يوه]|حياتها|الدنيا)", r"(نقتل|اقتل) حالي", r"دوا (الفيران|الفار)",
    r"(يرمي|نرمي|ترمي) (راسو|راسي|راسها|حالي|حالو|نفسي|نفسه)", r"ناوي (نطيح|انتحر|اموت|نموت)",
    r"(بغات|بغا|بدها|بدو|ابغي) (تموت|يموت|اموت|نموت)", r"(حضرت|جبت|معاه|معايا|عندي) (ال)?حبل",
    r"(سينهي|ينهي|ننهي|تنهي) (حياتي|حياته|حياتها)", r"(اذبح|نذبح) (نفسي|راسي|روحي)",
    r"ما (بغيتش|بديش|نبغيش) (نفيق|افيق)", r"(شربت|شربات|بلعت) (ال)?سم\b",
    r"(يلوح|تلوح) (راسو|راسها)",
    r"معصمي", r"(نقص|نقطع|اقص|اقطع|نجرح|نشرط)\w* (ال)?عروق", r"ندخل للبحر", r"لا تبحثوا عني",
    r"شروق الشمس", r"راسي بالحيط",
    r"الدوا قدامي", r"(اخلص|نخلص) من (حياتي|راسي)",
    r"(لن|مش|ما عاد|ما عادش|ماعاد) \w*تسمعو\w* (صوتي|مني|عني)",
    r"(فرقت|فرقات|وزعت|وزعات) (حوايج|اغراض|اشيا)",
    r"(بيخلص|يخلص|ينتهي|غيسالي|يسالي|حيخلص) الليله",
    r"(قاعد|واقف|جالس|انا|وانا)\w* (في|ف|على|عل|ع|فوق) (ال)?(كبري|جسر|قنطره|سطح|شباك|حافه)",
    r"اخر (حاجه|شي|كلام|رساله) (ه|ب|ن|ا|غان|غا)?(كتب|اكتب)",
    r"(بحر|نهر|واد).{0,40}(ما (ي|ب|ن|ت)?راجع|ما (ي|ن|ت)رجع|طافي)",
    r"(ما (ي|ب|ن|ت)?راجع|ما (ي|ن|ت)رجع).{0,40}(بحر|نهر|واد)",
    r"صوره (ل|لل|ديال |تاع )?(ال)?حبل",
    r"(حتى|باش|عشان|لكي|حتي) (لا|ما) (يستيقظ|يصحى|يفيق|نفيق|افيق|اصحى)",
    r"احسن (خلص|نخلص|اخلص|نموت|اموت)",
    r"اخر (نهار|يوم|ليله) (ليا|لي)$", r"اخر مره (ا|ن)?(كلمكم|نكلمكم|نهضر|نحكي|احكي)",
    r"(الشفره|الموس) (جنبي|حدايا|قدامي|في يدي|ف يدي|بيدي)",
    # wolof / latin darija
    r"\bbeugouma dund\b", r"\bbghit nmout\b",
]
_VIOLENCE = [
    # en
    r"(?<!heart )(?<!heart is )(?<!heart starts )(?<!heart keeps )"
    r"\b(beat|beating|beats|hit|hitting|hits|rape|raped|stab|stabbed|kidnap\w*)\b",
    r"\b(am|is|are|being|getting) beaten\b", r"\bbeaten up\b",
    r"\battack(ed|ing)? (me|us|my)\b", r"\b(gang|they) attacked\b", r"\bwill kill (me|us|my)\b",
    r"\b(want|going) to kill (me|us)\b", r"\b(gun|knife|machete)\b", r"\bbreak into\b",
    r"\b(burn|burning|burnt|burned) (our|my|the) (house|home|room|shop)\b",
    r"\bransom\b", r"\bagainst my will\b", r"\bi'?m hiding\b", r"\bwhere they kept me\b",
    r"\bthey are coming\b", r"\b(sell|sold) my (son|daughter|child|kid|wife)\b",
    r"\bforced (me|us) (in)?to\b", r"\bforc\w* .{0,30}\bto marry\b", r"\blocks? me in\b",
    r"\b(locked|trapped) (me )?(in|inside|up)\b", r"\bcan'?t (leave|escape|get out)\b",
    r"\bsmugglers? .{0,15}(found|waiting)\b", r"\bin danger\b", r"\bfollowing me\b",
    r"\bsexual(ly)? (assault|abus)", r"^sos\b", r"\bsos$", r"\boutside my (door|house)\b",
    r"\b(won'?t|don'?t) let me (leave|go)\b",
    r"\bforced? (me )?to (work|sleep)\b.*\b(can'?t|help)\b",
    r"\bforce me to\b", r"\bkeeping me in\b", r"\b(want|going) to hurt me\b",
    r"\blocks me inside\b", r"\b(chasing|following) me\b", r"\bstabbing\b",
    r"\bburn(ed|t) (my|our) house\b", r"\bcan'?t go out\b",
    r"\bmachetes?\b", r"\bwith guns\b", r"\bsold me\b", r"\btook (her|him) in a car\b",
    r"\btake our phones\b", r"\bmy last night\b", r"\bgrabbed my (son|daughter|child)\b",
    r"\bwork the streets\b", r"\bpetrol\b", r"\bburn the house\b",
    r"\bweapons?\b", r"\bthreaten\w* to (kill|hurt|harm)\b",
    r"\bthreaten\w* (my|our) (kids|children)\b",
    r"\btook my (son|daughter|child|kid|wife)\b", r"\b(searching|hunting) for me\b",
    r"\blocked us\b", r"\bsurround\w* (our|my|the) (house|home)\b", r"\bbeing followed\b",
    r"\bshooting\b", r"\bchok(e|es|ing) me\b", r"\bstrangl\w*",
    r"\bat+a(c)?k\w* me\b",
    r"\b(i'?m|we'?re|i am|we are) (now |still )?(lost |stuck |stranded )?in the "
    r"(middle of the )?desert\b",
    r"\b(i'?m|i am) still inside\b", r"\boutside now\b", r"\b(axe|cutlass|whip)\b",
    r"\bknives\b",
    # fr
    r"\b(frapper|battu|viole|violee|poignarde|tabasse)\b",
    r"(?<!quelle )(?<!belle )(?<!une )(?<!sa )\bfrappe\b", r"\bme (tape|bat)\b",
    r"\b(me|nous) (frappent|battent|tapent)\b",
    r"\bme laiss\w* pas (partir|sortir)\b",
    r"\b(veut|veulent|va|vont) me tuer\b", r"\b(couteau|pistolet|fusil|machettes?)\b",
    r"(?<!reste )(?<!s')\benferm\w*", r"\bsequestr\w*", r"\ben danger\b", r"\bkidnapp?\w*",
    r"\benleve\w*\b(?! (un poids|des frais|les frais))",
    r"\bme suit\b", r"\bentrer chez moi\b", r"\bm'ont vendu\b", r"\brancon\b", r"\bme cache\b",
    r"\bme gardaient\b", r"\b(retient|retiennent) contre\b", r"\bcontre ma volonte\b",
    r"\bils arrivent\b", r"\bagresse\w*", r"\battaqu\w* (a|je|mon|ma|moi)\b", r"\bon attaque\b",
    r"\bvendre mon (fils|enfant|fille)\b", r"\bforce\w* a monter\b", r"\bde force\b",
    r"\bpasseurs? .{0,20}(retrouve|attend|gardent)", r"\bau secours\b", r"\bo secour",
    r"\b(ils|on) me (suivent|suit|poursui\w*)\b", r"\bme poursuivent\b", r"\bpeux pas sortir\b",
    r"\bme force a\b", r"\bcachee?\b.*\bils sont\b", r"\bme gardent\b",
    r"\bbrule\w* ma maison\b", r"\bbat sa (femme|fille)\b",
    r"\bva me finir\b", r"\bavec des armes\b", r"\bm'a vendue?\b",
    r"\bl'a pris\w* dans une voiture\b", r"\bprennent nos tel", r"\bderniere nuit\b",
    r"\bcasse la porte\b", r"\battrape mon (fils|enfant|fille)\b", r"\bfaire le trottoir\b",
    r"\bessence\b.*\bbruler\b",
    r"\bmenac\w* de (tuer|mort)\b", r"\bmenac\w* (mes|ma|mon)\b",
    r"\bentour\w* (la|ma|notre) maison\b", r"\bils me cherchent\b",
    r"\bca tire\b", r"\bdes tirs\b", r"\bcoups de feu\b", r"\betrangl\w*",
    r"\bm'attaqu\w*", r"\bviol(er|ent|ait)\b",
    r"\barmes\b", r"\bmenac\w* de bruler\b", r"\bdefonc\w* (la|ma|notre) porte\b",
    r"\btir\w* dessus\b",
    r"\b(je suis|on est|nous sommes) (encore |toujours |maintenant )?(perdue?s? |bloquee?s? )?"
    r"(au milieu du|dans le) desert\b",
    r"\b(hache|coupe-coupe|gourdin|fouet|chicotte)\b",
    r"\b(pris|recupere|emmene)\w*\b.{0,40}\bpar des (inconnus|gens qu'on (ne )?conna\w* pas)\b",
    r"\b(ngi|ngiy|dafa|danu|danuy) door\b",
    # ar
    r"ضرب(ني|وني|تني|ها)", r"(يضرب|كيضرب)(?! ?(لي|ليا|ليك|لك|ليه|ليهو)\b)", r"اغتصب", r"اعتدا",
    r"(يقتلو?ني|يقتل امي|رح يقتل)",
    r"(هاز|شاد|حامل|جاب|خرج|طلع|معاه|عندو)\w* (ال)?فردي\b", r"الفردي (على|ف|في)",
    r"(?<!م)(?<!ما)سكين",
    r"(ماسكين|شادين|حابسين|خاطفين) (اخوي|خويا|ولدي|بنتي|اختي|خيتي|راجلي|مرتي|بابا|امي|يما)",
    r"مسدس", r"خطف", r"مخطوف", r"محبوس", r"حابسي?ني", r"(انا|راني) محتجز",
    r"يحتجز",
    r"مربوط", r"يعذب", r"هددو?ني بال", r"(بيهددونا|كيهددها|كيهددني دابا|يهدد بايذا)",
    r"مسدود عليها",
    r"يبيع(ني|ونا|وني|وها|وهم|وه)\b", r"يبيعو (في|ف)(يا|ينا|يها|يه|يهم)\b",
    r"يبيعو (ال)?(بنات|ناس|نسا|بشر|اطفال|دراري|عبيد)", r"مخبي", r"عصابه", r"في خطر", r"فخطر",
    r"كيتبعني", r"يتبعوني", r"يجبرون",
    r"غصبو?ني", r"(ما خلاونيش|لا استطيع|مانقدرش|ما نقدرش) (نخرج|الخروج|المغادره)", r"دخلت علينا",
    r"يتبعونني", r"كيهددني", r"(مختبئ|مختبيه|مخبيه)", r"(ياذوني|يؤذوني|يأذوني)", r"يقفل علي",
    r"تطاردني", r"حرقوا",
    r"النجده", r"معاهم سلاح", r"السواطر", r"الساطور", r"باعني", r"اخذها رجل", r"ياخذون هواتفنا",
    r"اخر ليله", r"البارود", r"يسمحون لي بالخروج", r"شد ولدي",
    r"(رش|صب|كب|دلق|دهن)\w* .{0,25}بنزين", r"(جركن|جركان|جريكن|بيدون)\w* (ال)?بنزين",
    r"بنزين .{0,30}(نار|ولاع|وقيد|يحرق|يولع)",
    r"(هدد|هاجم|ضرب|جرح|طعن|يجري|جاي|جاو|داخل|حامل|شاد|هاز)\w* .{0,20}(ب|بال)?(سيف|سيوف)\b",
    r"(واحد|راجل|شخص|حد|ناس|جماعه) (ب|بال)(سيف|سيوف)\b",
    r"(خداو|خدا|خذاو|خذا|اخذو|اداو|داو|هزو|ركبو)\w* .{0,20}بالسيف",
    r"(يقتلوا|يقتلو) (عيلتي|عائلتي|ولادي|مرتي)", r"(بي|كي)?يهدد(و|وا|ون)\b",
    r"سد(و)? علي(نا|ا|ه)\b", r"دايرين بالدار", r"(كيقلبو|يدورو|يدوروا) علي(ا|ي)\b", r"الحقوني",
    r"(ياذيني|يؤذيني)",
    r"(كيخنقني|يخنقني|بيخنقني|خنقني)",
    r"(كيهجم|يهجم|هجم|هاجم)\w* علي", r"غتصب",
    r"مسلح", r"(معهم|عندهم) سلاح", r"(يكسر|يكسرو|كيكسرو|كسرو) الباب", r"جنوي",
    r"بالرصاص", r"اطلاق (ال)?رصاص",
    r"ما (كي|ك|ي|ت)?(خل|يخل)\w*ش (نخرج|نخرجو|نمشي|نمشيو)\b",
    r"(راني|انا|احنا|حنا|رانا) (الحين |دابا |توا |هلق |الان )?(ف|في|فوسط|وسط|ف وسط) ?(ال)?صحرا",
    r"(مازال|ما زال|لسه|باقي) (برا|بره) (يستنى|يستناني|يستنا|واقف)",
    r"(ت|ي|كت|كي|بت|بي)تبع ?(فيا|فيي)\b", r"(كت|بت)تبعني",
    r"دخل (غرفتي|عليا|علي|علينا).{0,30}(اغلق|قفل|سكر|سد)",
    r"(ولع|حرق)\w* .{0,15}(بالجاز|بالبنزين|بالنار|بالغاز|بالدوليو)",
    r"(بدو|عايز|عاوز|بغا|بيريد|جا|جاي|داير) (\w+ )?\w*\s?بالقوه",
]
_MEDICAL = [
    # en
    r"\b(unconscious|not breathing|can'?t breathe|cannot breathe|chest pain)\b",
    r"\b(heart attack|stroke|seizure|convuls\w*|poison\w*)\b", r"\bpassed out\b",
    r"\b(doesn'?t|does not|won'?t) wake up\b", r"\bnot moving\b", r"\bfainted\b",
    r"\bin labou?r\b", r"\bwaters? broke\b", r"\bbaby is coming\b", r"\bambulance\b",
    r"\bdrank (bleach|poison)\b", r"\bswallowed\b", r"\b(snake|dog) bite\b",
    r"\b(severe|bad) burns?\b", r"\bvomiting blood\b", r"\bdoesn'?t drink\b",
    r"\bbody is burning\b", r"\bcan'?t move my\b",
    r"\bemergency\b(?! (shelter|housing|accommodation|cash|grant|fund|aid|kit)\b)",
    r"\bhaving a fit\b", r"\b(faints|fainting|passes out)\b",
    r"\beyes roll", r"\bcollapsed\b", r"\bno pulse\b", r"\bpeople are dying\b",
    r"\bburning with fever\b", r"\bblood (won'?t|doesn'?t|will not) stop\b", r"\bdrown",
    r"\blips (are )?turning blue\b", r"\bfoam\b", r"\bblood keeps\b", r"\bscorpion\b",
    r"\bboiling water\b", r"\bpesticide\b", r"\bneck is stiff\b", r"\bcan'?t feel my\b",
    r"\bwords come out wrong\b", r"\bturning black\b", r"\bbreathing very fast\b",
    r"\bchest sinks\b", r"\bcold and confused\b",
    r"\blot of blood\b", r"\bnot responding\b", r"\bdrank (kerosene|petrol|gas|bleach|poison)",
    r"\bshaking on the (floor|ground)\b", r"\bfoaming\b", r"\bheart at+ack\b",
    r"\bnot waking up\b", r"\bcan'?t breath\b", r"\bbitten\b",
    r"\bsto?p+ed breathing\b", r"\bunc\w*ious\b",
    r"(?<!not )(?<!no )(?<!stopped )\bbl(e|ee|ea)ding\b",
    r"\bseizur\w*",
    r"\btoo much blood\b", r"\bblood everywhere\b", r"\bisn'?t waking up\b",
    r"\bwithout (food|eating) (or|and|nor) (water|drinking)\b", r"\bcan'?t (get up|stand up)\b",
    # fr
    r"\b(saigne|saignement|hemorragie|inconscient\w*|evanoui\w*)\b", r"\brespire (plus|pas)\b",
    r"\b(perdu|perd|sans) connaissance\b",
    r"\barrive (plus|pas) a respirer\b", r"\bcrise (cardiaque|d'epilepsie)\b", r"\bconvuls\w*",
    r"\bempoisonn\w*", r"\bintoxi\w*", r"\ben train d'accoucher\b", r"\bperdu les eaux\b",
    r"\bse reveille (pas|plus)\b", r"\bne bouge plus\b", r"\bambulance\b", r"\bsamu\b",
    r"\bforte fievre\b", r"\beau de javel\b", r"\bbebe arrive\b", r"\bdouleur a la poitrine\b",
    r"\bmorsure\b", r"\bavale des\b", r"\bbrulures? grave", r"\bvomi\w* du sang\b",
    r"\bne boit plus\b", r"\bcorps est brulant\b", r"(?<!d')(?<!de )\burgence\b", r"\bavale une\b",
    r"\bun avc\b", r"\bbouche tordue\b", r"\bnoye\b", r"\bblesses graves\b",
    r"\blevres deviennent bleues\b", r"\bmousse a la bouche\b", r"\bsang coule\b",
    r"\bpoitrine\b.*\btranspire\b", r"\beau bouillante\b",
    r"\bcogne la tete\b", r"\bsens plus mon\b", r"\bserpent\b", r"\brespire tres vite\b",
    r"\bfroide et confuse\b",
    r"\brespire mal\b", r"\bbeaucoup de sang\b",
    r"\b(il|elle) (ne )?repond (plus|pas)\b(?! a (mes|nos|ses) (appels|messages))",
    r"\bbu (du |de la |de l')?(petrole|javel|poison|essence)", r"\btremble par terre\b",
    r"\bbave\b", r"\bcrise (au|de) coeur\b", r"\brenvers\w* par\b", r"\bbouge (plus|pas)\b",
    r"\bavale\w* (de l'|du |de la )?(acide|javel|poison|pile)",
    r"\bsang partout\b", r"\btremble partout\b", r"\bperd les eaux\b",
    r"\bsans (manger|boire) ni (boire|manger)\b", r"\b(peux|peut) plus (me|se) lever\b",
    # ar
    r"نزيف", r"ينزف", r"تنزف", r"كينزف", r"نازل علي دم", r"(فاقد|فاقده) الوعي", r"مغمي عليه",
    r"اغمي", r"(قادر|قادره|نقدر|استطيع) (نتنفس|يتنفس|تتنفس|التنفس)", r"(كيتنفس|يتنفس)$",
    r"(ما|مش|مو|ماهوش) (عم )?(بي|كي|ي|بت|كت|ت)تنفس",
    r"ضيق (في |ف)?التنفس", r"نوبه قلبيه", r"جلطه", r"تسمم", r"مسموم", r"تشنج", r"كيترعد",
    r"المخاض", r"اسعاف", r"لابيلانس", r"(?<!سكن )(?<!سكن ال)(?<!ايواء ال)(?<!مساعده ال)طوارئ",
    r"جافيل", r"ما (بقاش )?كيفيق", r"يستجيب", r"تختنق",
    r"يتقيا دما", r"جرحى", r"وجع قوي", r"لدغ", r"ما بقاش كيتحرك", r"تحرق(?!ت|ات)",
    r"تحرق\w* (في|ف) ?(وجه|يدي|يد|رجل|جسم|ظهر|بطن)", r"(يكح|بيكح|كيكح|يسعل)\w* (موي|ماء|الما|المي)",
    r"\b(ب|ت)?بلع(ت|ات|و|وا|ها|ه)?\b", r"ابتلع",
    r"الحمل تكسر", r"حمى شديده", r"(?<!الجو )(?<!الطقس )سخون بزاف", r"تمه مايل", r"بدات تولد",
    r"لا يتنفس",
    r"لونه ازرق", r"حادثه سير", r"ما فاقش", r"الصرعه", r"(قادر|نقدر) (اتنفس|انفس)", r"شرب السم",
    r"الدم (ما|مش)", r"دم(ها|و|ه)? (ما|مش|لا) ?(وقف|يوقف|بيوقف|حبس|يحبس|يتوقف)",
    r"(?<!س)(ي|ت|كي|كت|بي|بت)غرق|غرقان",
    r"اللون الازرق", r"زبد", r"الدم لا يتوقف", r"الم في صدره", r"عقرب", r"الماء المغلي", r"المبيد",
    r"متيبس", r"لا اشعر بالجانب", r"\b(ال)?حنش\b", r"يتنفس كتير بسرعه", r"مش بترد", r"ما بغاش يفيق",
    r"خبط راسه",
    r"(كيتنفس|يتنفس)ش", r"نازل علي(ها|ه)? .{0,20}دم",
    r"(ما بقاش|ما عاد|مش) (كيجاوب|يجاوب|يرد)"
    r"(?! (على|عل|ع|فال|في ال|ف) ?(ال)?(تلفون|تيليفون|تليفون|هاتف|مكالم|رسائل|ميساج|واتساب))",
    r"شرب (الليصانص|البنزين|الجافيل|الكاز|السم)", r"(كيترعش|يترعش|يرتعش)", r"ازمه قلبيه",
    r"(ضربتو|ضربته|صدمته|صدمتو|دعساتو) (طوموبيل|سياره|طونوبيل)", r"ما (بغا|بغات)ش (ي|ت)فيق",
    r"(تقدر|يقدر) (تتنفس|يتنفس)", r"(كيسيل|يسيل) (ب)?(ال)?دم", r"لفعه|افعي|عضاتو|عضته",
    r"(وقع|طاح) (في|ف) (البير|البئر)",
    r"ما (فايق|فايقه)(ش)?\b", r"ما فايقاش", r"(الماء|الما) القاطع",
    r"\bزرق\b", r"ما (كيتحرك|يتحرك|بيتحرك)ش", r"(طاح|طاحت|وقع|وقعت) وما",
    r"والدم (كثير|بزاف)", r"نزل (ليها|لها) الما", r"(يختنق|كيختنق)",
    r"ما (كلا|كلات|كليت|اكل|اكلت)\w* (و)?(ما|ولا) (شرب|شربات|شربت)",
    r"(ولا|ولات|صار|صارت) (رخو|رخوه|رخي)",
    r"ما (كيحلش|يفتحش|بيفتحش|كتحلش) (عينيه|عينيها|عينو|عينها)",
    r"(مش|ما|لا|ما عم) (بيصحى|يصحى|يصحا|بيصحا|يفيق|تفيق|كتفيق|بتصحى|تصحى|يستيقظ|تستيقظ)\b",
    r"شفايف\w* (زرق|ازرق)", r"(يتنفس|تتنفس) (بالجهد|بصعوبه|بزز|بالسيف)",
    r"ما (عم )?(يقدر|تقدر|بيقدر|قادر)\w* (ياخد|ياخذ|تاخد|تاخذ) نفس",
    r"(سقطت|سقط|طاح|طاحت|وقع|وقعت)\w* .{0,40}(ما|لا|مش) (ترد|يرد|بترد|بيرد|كترد|كيرد|تجاوب|يجاوب)",
    r"(ترتجف|يرتجف|ترتعش)", r"ما (بقاتش|بقاش|عادت|عاد) (كتعرفنا|كيعرفنا|تعرفنا|يعرفنا)",
    r"(يعرفناش|تعرفناش)",
]



# A danger told as over, said not to be urgent, laughed at or from a film: the hit still
# raises `urgent` (the contacts go out), but the classifier, not the lexicon, says what is
# asked ("I was beaten in Libya in 2021, how do I file a complaint?").
_CALM = re.compile("|".join(p.translate(ARABIC_LETTERS) for p in [
    r"\blast (year|month)\b", r"\b(years?|months?) ago\b", r"\bin (19|20)\d\d\b",
    r"\b(all )?(that|it) (is|was) (over|finished|behind me)\b", r"\bis behind me\b",
    r"\bthat one (is )?finish", r"\bback then\b", r"\b(i am|i'?m) (safe|home) now\b",
    r"\bnow i am (safe|home)\b", r"\bnot (urgent|an emergency)\b",
    r"\bl'an (dernier|passe)\b", r"\bl'annee (derniere|passee)\b", r"\ben (19|20)\d\d\b",
    r"\bil y a (\d+|deux|trois|quatre|cinq|six|quelques|plusieurs) (ans|annees|mois)\b",
    r"\bc'(est|etait) du passe\b", r"\bje suis (en securite|a l'abri)\b",
    r"\b(c'?est |c )?pa?s urgent\b",
    r"(العام|السنه|عام) (الماضي|اللي فات|الي فات|لي فات|الفايت|الفات)",
    r"(من|قبل) (سنه|سنتين|عامين|عام|\d+ (سنين|سنوات|اشهر|شهور))",
    r"(في|ف|عام|سنه) ?(19|20)\d\d", r"(فات|فاتت) (عليها|الحال)",
    r"مر (عام|عامان|سنه|سنتين|شهر|شهرين)", r"(كل شي|كل شيء|كلشي) (انتهي|تسالا|خلص|فات)",
    r"(كنت|كنا|كان|كانت|كانو|كانوا)ش? (مخطوف|محبوس|محتجز)",
    r"(كلو|كله) (انتهي|فات|خلص|تسالا)", r"(انا|راني|احنا) (في|ف) امان",
    r"(ماشي|مش|ليس|ليست|مو|ماهي|ماهيش) (حاله )?(طواري|مستعجل|عاجل)",
    r"ه{3,}", r"😂|🤣", r"\b(lol|mdr|ptdr|haha\w*)\b", r"\bfrom laughing\b", r"الضحك",
    r"\b(film|movie|series|serie|feuilleton|nollywood)\b", r"فيلم|مسلسل",
]))


@dataclass(frozen=True, slots=True)
class EmergencyHit:
    topic: str
    matched: str
    calm: bool = False  # the text tells the danger as over, or says it is not urgent


@dataclass(frozen=True, slots=True)
class _Lexicon:
    """One topic's patterns, searched as their alternation `p1|p2|...` would be.

    Python's regex engine tries every alternative at every position, which cost more than
    all the rest of a parse but the sentence embedding. Instead each pattern is compiled
    alone, and only those whose needed literals (`_needed`) are in the text are searched.
    The alternation's match is the leftmost one, the earlier pattern winning a tie, and a
    pattern cannot match without its literals, so the result is the same.
    """

    topic: str
    patterns: tuple[re.Pattern[str], ...]
    needed: tuple[frozenset[str] | None, ...]  # per pattern; None: search it always

    @classmethod
    def of(cls, topic: str, patterns: list[str]) -> _Lexicon:
        # patterns are written in plain spelling; fold their Arabic letters like the text's
        compiled = tuple(re.compile(p.translate(ARABIC_LETTERS)) for p in patterns)
        return cls(topic, compiled, tuple(_needed(p.pattern) for p in compiled))

    def search(self, normalized: str, candidates: set[int]) -> str | None:
        """The text the alternation would match first, given the patterns that may match."""
        first: re.Match[str] | None = None
        for index in sorted(candidates):
            found = self.patterns[index].search(normalized)
            if found and (first is None or found.start() < first.start()):
                first = found
        return first.group(0) if first else None


class _Prefilter:
    """Which patterns' needed literals a text holds, looked up by their first two letters."""

    def __init__(self, lexicons: tuple[_Lexicon, ...]) -> None:
        uses: dict[str, list[tuple[int, int]]] = {}  # literal -> (lexicon, pattern) pairs
        self.always: list[set[int]] = []
        for number, lexicon in enumerate(lexicons):
            self.always.append({i for i, n in enumerate(lexicon.needed) if n is None})
            for index, literals in enumerate(lexicon.needed):
                for literal in literals or ():
                    uses.setdefault(literal, []).append((number, index))
        self.by_pair: dict[str, list[tuple[str, tuple[tuple[int, int], ...]]]] = {}
        self.short: list[tuple[str, tuple[tuple[int, int], ...]]] = []  # one letter
        for literal, pairs in uses.items():
            entry = (literal, tuple(pairs))
            if len(literal) < 2:
                self.short.append(entry)
            else:
                self.by_pair.setdefault(literal[:2], []).append(entry)

    def candidates(self, normalized: str) -> list[set[int]]:
        """Per lexicon, the patterns with one of their literals in the text, or with none."""
        found = [set(always) for always in self.always]
        pairs = {normalized[i:i + 2] for i in range(len(normalized) - 1)}
        entries = [e for pair in pairs & self.by_pair.keys() for e in self.by_pair[pair]]
        for literal, uses in chain(entries, self.short):
            if literal in normalized:
                for lexicon, index in uses:
                    found[lexicon].add(index)
        return found


def _needed(pattern: str) -> frozenset[str] | None:
    """Literals one of which every match of `pattern` contains; None if none is known."""
    parsed = _PARSER.parse(pattern)
    return None if parsed.state.flags & re.IGNORECASE else _needed_in(parsed)


def _needed_in(items: Any) -> frozenset[str] | None:
    """The same for a parsed sequence: its longest literal runs, or its groups' literals."""
    options: list[frozenset[str]] = []
    run = ""
    for code, argument in items:
        name = str(code)
        if name == "LITERAL":
            run += chr(argument)
            continue
        if name == "AT":  # ^, $, \b and \B match no characters: the run goes on
            continue
        if run:
            options.append(frozenset({run}))
            run = ""
        inner: frozenset[str] | None = None
        if name == "SUBPATTERN" and not argument[1] & re.IGNORECASE:
            inner = _needed_in(argument[3])
        elif name == "BRANCH":
            branches = [_needed_in(branch) for branch in argument[1]]
            if all(branches):
                inner = frozenset().union(*branches)  # type: ignore[arg-type]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and argument[0] >= 1:
            inner = _needed_in(argument[2])
        if inner:
            options.append(inner)
    if run:
        options.append(frozenset({run}))
    # the option whose shortest literal is longest is the rarest in text
    return max(options, key=lambda o: (min(map(len, o)), -len(o)), default=None)


_PARSER: Any = importlib.import_module("re._parser")  # the stdlib regex parser

# violence first: "ils veulent me tuer" is a threat, though "me tuer" alone is self-harm
_LEXICONS = (
    _Lexicon.of("safety", _VIOLENCE),
    _Lexicon.of("psychosocial", _SELF_HARM),
    _Lexicon.of("health", _MEDICAL),
)
_PREFILTER = _Prefilter(_LEXICONS)


def detect(normalized: str) -> EmergencyHit | None:
    """The first emergency pattern found in normalised text, with its topic."""
    for lexicon, candidates in zip(_LEXICONS, _PREFILTER.candidates(normalized), strict=True):
        found = lexicon.search(normalized, candidates)
        if found is not None:
            return EmergencyHit(lexicon.topic, found, _CALM.search(normalized) is not None)
    return None
