"""Common words of the city's languages (en, fr, nl, de), lower-cased: a capitalised one
starts a sentence, it does not name anyone (`concord.core.redaction.name_like`).

Function words, pronouns, frequent verbs and adverbs, days and months, and the nouns a
report about an incident tends to start a sentence with. A word missing here is
scrubbed when it starts a sentence: that costs a word of the text, never a person.
"""

from __future__ import annotations

_EN = """
a about above after again against all also an and another any are around as at away
back be because been before behind being below between both but by can could did do
does during each either every few for from further had has have he her here hers him
his how however i if in into is it its just last later like many may me meanwhile
more most much must my near never next no nobody none nor not nothing now of off on
once one only or other others our out outside over perhaps please since so some
someone something sometimes soon still such than that the their them then there these
they this those though through to today together tomorrow tonight too under until up
upon us very was we were what when where whether which while who whom whose why will
with within without would yes yesterday yet you your
said says told asked saw heard called shouted wrote posted went came left there's it's
call reach contact write tell ask see look please thanks hello hi dear
i'm we're they're he's she's don't didn't can't won't
man men woman women boy boys girl girls child children people person persons pupils
pupil students student teacher teachers parents parent neighbours neighbour neighbors
group groups youths young residents resident police officers officer someone somebody
victim victims witness witnesses reporter driver passengers passenger staff shop
school mosque synagogue church temple bus tram train metro station street park square
graffiti insults insult threats threat attack assault fight rumour rumours message
messages posts post video videos photo photos comments comment flyers leaflets
stickers swastika swastikas banner slogan slogans words symbols tonight morning
evening afternoon night week weekend month year since around approximately about
two three four five six seven eight nine ten several many
"""
_FR = """
à au aux avec ce ceci cela celle celles celui ces cet cette chez comme dans de des du
elle elles en entre et eux il ils je la le les leur leurs lui ma mais me même mes moi
mon ne ni nos notre nous on ou où par pas pendant plus pour qu que quel quelle quelles
quels qui quoi sa sans se ses si son sous sur ta te tes toi ton tous tout toute toutes
très tu un une vers vos votre vous y ça depuis hier aujourd demain ce soir matin midi
après avant alors aussi ensuite puis encore déjà jamais toujours ici là voici voilà
oui non selon environ plusieurs deux trois quatre cinq six sept huit neuf dix
il y a était été sont est ont a avait avaient fait font dit disent ont vu
homme hommes femme femmes garçon garçons fille filles enfant enfants élèves élève
jeunes jeune habitants habitant voisins voisin voisins parents parent professeur
policiers policier victime victimes témoin témoins groupe groupes personne personnes
école mosquée synagogue église temple bus tram train métro gare rue parc place
tags tag insultes insulte menaces menace agression attaque bagarre rumeur rumeurs
message messages vidéo vidéos photo photos commentaires tracts autocollants croix
gammée banderole slogans mots symboles soir nuit semaine mois année lors vers
"""
_NL = """
aan af al als bij daar dan dat de deze die dit door een en er geen haar hem het hier
hij hoe hun ik in is je jij kan maar me met mij mijn na naar niet nog nu of om onder
ons onze ook op over te tegen toen tot u uit van veel voor want was waren wat we wie
wij worden zal ze zij zich zijn zo zonder gisteren vandaag morgen avond nacht ochtend
week maand jaar sinds rond ongeveer twee drie vier vijf zes zeven acht negen tien
werd werden heeft hebben had hadden zei zeiden zag zagen
man mannen vrouw vrouwen jongen jongens meisje meisjes kind kinderen leerlingen
leerling jongeren bewoners bewoner buren buurman ouders ouder leraar leerkracht
politie agenten agent slachtoffer slachtoffers getuige getuigen groep groepen
school moskee synagoge kerk tempel bus tram trein metro station straat park plein
graffiti beledigingen belediging bedreigingen bedreiging aanval vechtpartij gerucht
geruchten bericht berichten video foto foto's reacties pamfletten stickers
hakenkruis spandoek leuzen woorden symbolen
"""
_DE = """
der die das den dem des ein eine einer einen einem eines und oder aber ich du er sie
es wir ihr mich dich sich uns euch mein dein sein unser euer in im an am auf aus bei
mit nach von vor zu zum zur über unter durch für gegen ohne um nicht kein keine auch
noch schon nur sehr wie was wer wo wann warum dann als wenn weil dass ob hier dort
heute gestern morgen abend nacht woche monat jahr seit etwa zwei drei vier fünf
wurde wurden hat haben hatte hatten war waren ist sind sagte sagten sah sahen
mann männer frau frauen junge jungen mädchen kind kinder schüler schülerin jugendliche
anwohner nachbarn eltern lehrer polizei polizisten opfer zeuge zeugen gruppe gruppen
schule moschee synagoge kirche tempel bus straßenbahn zug bahnhof straße park platz
beleidigungen beleidigung drohungen drohung angriff schlägerei gerücht gerüchte
nachricht nachrichten video foto fotos kommentare flugblätter aufkleber hakenkreuz
transparent parolen wörter symbole
"""
_DAYS_MONTHS = """
monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december
lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin
juillet août septembre octobre novembre décembre
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart
april mei juni juli augustus september oktober november december
montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz mai
juni juli august oktober dezember
"""

#: Lower-cased words that are not names, in the four languages.
COMMON: frozenset[str] = frozenset((_EN + _FR + _NL + _DE + _DAYS_MONTHS).split())
#: Elided articles and pronouns before an apostrophe (`l'`, `d'`, `qu'`, `'t`).
ELISIONS: frozenset[str] = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu"})
