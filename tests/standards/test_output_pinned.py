"""The bytes the writer produces are pinned: speed work on the codec must not change any output.

For every reference message: SHA-256 (first 32 hex digits) of
1. ``write_message(read_message(x))``;
2. the same built under another interaction, not pretty-printed (the renaming path);
3. ``read_message(x).model_dump_json()`` (everything the reader puts in the model);
4. ``write_message`` after dropping the codes the writer derives from BDS keys
   (rubriek, group, observation, consent, care status), as for hand-built dossiers.

And one digest over the corpus of what the JSON does not show: each object's
``model_fields_set`` and the order of its ``__dict__`` (the reader builds instances
without pydantic's validation, see ``codec.construct``).

The digests were computed with the codec as of commit 4cb2c56 (lxml 6.1.3). If an
intended output change (or an lxml/libxml2 upgrade that serialises differently) breaks
this test, regenerate them and say why in the commit.
"""

from __future__ import annotations

import hashlib

import pytest
from pydantic import BaseModel

from jgz_gateway.standards import model as m
from jgz_gateway.standards.hl7v3 import read_message, write_message

from ..conftest import ref_id, reference_messages

MESSAGES = reference_messages()

OTHER = {
    "REPC_IN902120NL": "REPC_IN902120NL03",
    "REPC_IN902120NL03": "REPC_IN902120NL04",
    "REPC_IN902120NL04": "REPC_IN902120NL03",
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _keyed(dossier: m.Dossier) -> m.Dossier:
    """Drop the codes the writer can derive from BDS keys (as a hand-built dossier lacks them)."""
    for activity in dossier.activities:
        for rubriek in activity.rubrieken:
            rubriek.code = None
            stack = list(rubriek.items)
            while stack:
                item = stack.pop()
                item.code = None
                if isinstance(item, m.Group):
                    stack.extend(item.items)
    for act in dossier.consents + dossier.care_statuses:
        act.code = None
    return dossier


def test_every_reference_message_is_pinned():
    assert sorted(ref_id(p) for p in MESSAGES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_output_bytes_unchanged(path):
    dossier = read_message(path.read_bytes())
    got = (
        _digest(write_message(dossier)),
        _digest(write_message(dossier, OTHER[dossier.interaction], pretty=False)),
        _digest(dossier.model_dump_json().encode()),
        _digest(write_message(_keyed(dossier))),
    )
    assert got == EXPECTED[ref_id(path)]


def _shapes(obj, out: list[str]) -> None:
    if isinstance(obj, BaseModel):
        out.append(f"{type(obj).__name__}:{','.join(sorted(obj.model_fields_set))}:{','.join(obj.__dict__)}")
        for value in obj.__dict__.values():
            _shapes(value, out)
    elif isinstance(obj, list):
        for value in obj:
            _shapes(value, out)
    elif isinstance(obj, dict):
        for value in obj.values():
            _shapes(value, out)


def test_fields_set_and_field_order_unchanged():
    digest = hashlib.sha256()
    for path in MESSAGES:
        out: list[str] = []
        _shapes(read_message(path.read_bytes()), out)
        digest.update("\n".join(out).encode())
    assert digest.hexdigest() == "4435dae00b1cb6c3ef7723edc9d905f6d4599fa436cdc0a06f726a0d296e4e51"


EXPECTED = {
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R010_hl7.xml": ("45b9245015b094eb580f0c2e3d4bf849", "8e6cda1dc4ad4d5acca1c6ea685c2106", "5b0f8385c019978b8ba7a837bdfb82d5", "c91bf48096de0e86fad4c1ba7b43d6a5"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R012_hl7.xml": ("e7274015fa4ff6b14882ba861c6b30a1", "656dd45892dbdc5077274677d085d1ef", "a0a4300d03b1d34631030eeee8637752", "69e9549761985c2e199574bcacb39faf"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R013_hl7.xml": ("e7274015fa4ff6b14882ba861c6b30a1", "656dd45892dbdc5077274677d085d1ef", "a0a4300d03b1d34631030eeee8637752", "69e9549761985c2e199574bcacb39faf"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R016_hl7.xml": ("e7274015fa4ff6b14882ba861c6b30a1", "656dd45892dbdc5077274677d085d1ef", "a0a4300d03b1d34631030eeee8637752", "69e9549761985c2e199574bcacb39faf"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R018_hl7.xml": ("8ca86e0fb087d970bcf1582c0fbe3382", "eb2bc0336d74bec50793c4e7cbee969f", "eda533eef7101e4612bbe557489fe004", "c17141e1827da014dd11b7794267c727"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R019_hl7.xml": ("69785af29e951f5170dd0a0b210da9ce", "87e4f0306f0db817ca18d6e44a5c2006", "2c25dcfde171e98058093bba461227ca", "2fd8444dc434185163cd0a5c2cbfbed6"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R020_hl7.xml": ("cd7755d2a18634e8c69760fae90b15d4", "cc2fe0a0e47fb259b1d2acc86c8e5ffb", "2445445eace87453f25d4712f4516992", "d24be7175060eb1be97f99de6d8e6892"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R021_hl7.xml": ("dcbf50d940ae1439c0d1467bb47683c6", "fe18ec9f12089b02b1aab40af6ac3aed", "7e0f44f2b58a380185f55bdc1b45908b", "8e010c15e5a8c21fa1a334458ff3292c"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R022_hl7.xml": ("9dc7f4d412a40274e3355a0e63cf56f8", "22ddd3799ce35636ea0b48d53957e68f", "b42c7efe62bbe6d24c74e677e949aed3", "3c464f47412a9481e96226a28f46ed46"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R023_hl7.xml": ("c5fe0f718b74091d6c8de0ff61f13413", "90d06a7bb0835780f393ebe696ec381d", "10b36de0e1202a5ddf254c4cfdd0486b", "903386182f47f38715ad0ee5fd75010c"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R024_hl7.xml": ("3cec80798d4dd12b4e516f2a240f00bc", "0bead7f22355f0ba5179e767216128aa", "7b34d47d001264fba50e3cc67f7c6383", "450d33efa4a43ec71234a14a84a66b45"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R025_hl7.xml": ("45392e420092be2e57257f00f11d2581", "e9829e1099f5c5b1d737a1a9b13efe73", "d82d7c075f04dfd887e0f30f6280cdf1", "0aa2a9892a8fda94f7e98c9324cc6880"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R026_hl7.xml": ("3273d2bf829ee6030d07aedffd036cd6", "f352ad3657366023a60361d5ba110946", "6b0881e1ff7eb712fe926063ed91d323", "d0543fb409e0215f14ce9aeb5f9f511e"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml": ("81dbd997773774b6c6272accf0fd4b56", "84985b04ee828927f03f36a05d8a5ae5", "a898e174943711511fbf5ad6f9bda49d", "2905f321eb63e97e602cecaa2bf3d360"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R030_hl7.xml": ("fba6b6a30bda728a2abd97591753ba94", "d05035bc929ab57ce5bfceb7f3db8eed", "c6ce6780128442cf7a65cf623e38a002", "da23e230ee2a517f485b4c53b0fe8cbd"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R031_hl7.xml": ("c3467321a5135a08e4b47a76e79f4273", "e8e536c4bdd53263ed82c30dc85feb39", "a6512e3c6ece77c7223a7553181b91de", "e5f6f8c7a3a016711481dac1b551543f"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R032_hl7.xml": ("2f46bc1fd4b9cc65d5039fcc1779d62f", "17d5f3cc981460af64a79a509d1cc74c", "cd03b2f2938e06ab2a261e49f33fc5ec", "c5a643dbfd7b43dd61272d753c3c4d26"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R034_hl7.xml": ("0c1446d5e6a764e75420a6ebbe4eb62a", "6c05131634f1ebfed35e09bf6b0de50a", "4722d9e08787ac51462f1088a16a4dbb", "be2464e59f41a3fd5a0be6ed05d78f22"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R038_hl7.xml": ("f376dd60974f33477749aea433535f00", "11369761f85678ffd9e4d2dedadee8d7", "74cea932a8f957754c8940312ce4feb5", "9bca222a16b5756ffd1b623b48a9c3f4"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R039_hl7.xml": ("046a1c47bbd046eb3965a4744eb7570d", "9f9227d377de9ccdca40666cfd8e61b1", "b371253820b7469d9e9d27029cab8134", "c25aa08935e542fe7c1e8f4871e212ac"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R040_hl7.xml": ("c384a9d8b9caf2092969431db0834660", "8ac2e9685395f880e50c4ad6f6ca97d0", "ff335b4cc484543ac5346ff994eb7d9d", "3079b1e4af3752d57e1179b1cd35fcc4"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R041_hl7.xml": ("3df0cbbec99f65c0f14181451ad2a927", "b8c68312c75800f34cb3e4ff62a18876", "7f83c07e286db276c6a4640cf9278e16", "57ce268589d92e7ecd0ac9c3a2b5886f"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R042_hl7.xml": ("0ae684c693c4c65471034800c62d2483", "9b2088fa251025fc8fd2c9e48af1c81a", "edccf05f1134e421e1243927ea183985", "6b252a2eb9bbc05b8293900f9ebf8fd2"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R043_hl7.xml": ("df44dae0ca245fa348102b67ede06a74", "ee77e2ced5e4651eea63b40542f20683", "a8cca7f98c5febf89f4d8cb539bca360", "5f2cf7504d1e20146d2fe11083377df8"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R045_hl7.xml": ("e35abddf6d9f03e8fa69bde20d7ea7ff", "8f9dd6a95cc93e8176646e7d4595d3ac", "9434d456d526fc547b93623c8ff3be35", "b248e298298a64188d4cbca7ebba38b7"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml": ("74e532ee5b2cde96eb7323fbf52d221e", "a8c61bed3e263425f9cbc446c9ff7e33", "3c69ca27edb1078756371e31c3c0df55", "19bc126daf4611c19a69b006502acb45"),
    "nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R054_hl7.xml": ("4f804ee73382c65e21843be1151790f9", "3567da1fcc9de1a83cd8a0dd94df6d8b", "9522146abcd211bdf5b4cd63591c3e80", "cc288b8671e24339c5680faf263cfe8a"),
    "nl03-jgz7.0/DOB-3.0.0_JGZ-base_hl7.xml": ("e7274015fa4ff6b14882ba861c6b30a1", "656dd45892dbdc5077274677d085d1ef", "a0a4300d03b1d34631030eeee8637752", "69e9549761985c2e199574bcacb39faf"),
    "nl04-jgz8.0/DOB-4.0.0-KWAL_ontvangen_hl7.xml": ("5c4f6bcfc591bb4f9e67e99ec5e93c9d", "254646c85f6030b374b7fe73ec02456a", "6c9aded0655771ee1393b753719d761f", "fae738dd68b52219f80573862189f410"),
    "nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml": ("528b5ef2c71d4f542f46cf2e153315a4", "3dabe210f50dbb86029e567184534c0d", "7c4826fa87029124e4ff00e132e0837c", "2b542638e2d3397d43b4a2861ebed3d4"),
    "nl04-jgz8.0/DOB-4.0.0-R009-CR_test_JGZ-125_hl7.xml": ("9b8e9d9658a08ecc3cfebdb5f9af067d", "5e7b257b51d4e9da81bcb1a61948afb3", "c86647fd029143093a6475c3f58cf622", "2b486d2e7d17d3aa13f851ea4d83eeb1"),
    "nl04-jgz8.0/DOB-4.0.0-R012-CR_test_JGZ-106_hl7.xml": ("d9517808b0be8efb8de0a31105f80c30", "61a3b03f8d377a1580824d8a4ae6bb53", "e97497b8c8ef977b71828627a67e7e56", "7c2674ac0d9b01e8c17fd5788690976b"),
    "nl04-jgz8.0/DOB-4.0.0-R012-CR_test_JGZ-518_hl7.xml": ("538b86ec46b1f186a27b71503c291be6", "26299e50310b80632f07563d0c2b1f60", "20894946135220a0d931d467ac59101b", "06f15cc57671301079850479588d00bb"),
    "nl04-jgz8.0/DOB-4.0.0-R018-CR_test_JGZ-109_hl7.xml": ("8dfbc9788abe083de02315015601d564", "437caed3f35ddf704622c8fc352691f9", "a808eefbc9e45e8b8c76c95c4cb3f059", "8333e740e81c48c7c53ddb1709ac4260"),
    "nl04-jgz8.0/DOB-4.0.0-R019-CR_test_JGZ-328_hl7.xml": ("8c11beef4e753fd88d86b2f2e1c50ea2", "2cbafa2d4eecf386ae9cf16a6189ea24", "670078f7d728445933052ab6c63c1a90", "4033d897924c430ebc52cd8f4a8a0ad8"),
    "nl04-jgz8.0/DOB-4.0.0-R019-CR_test_JGZ-329_JGZ427_hl7.xml": ("9bb56d6ae25e775dbabdf644510e6340", "ac76d6d0685100f7a94ac385bd721980", "746387fb2805741f275f6fce37c8bb5d", "025708ac7c866441700caf310f7cf563"),
    "nl04-jgz8.0/DOB-4.0.0-R021-CR_test_JGZ-127_hl7.xml": ("90e30c1c8354593da710e4d28dc3008b", "8924925ddbfff097574c7e7a367654ea", "069945308fd4c16ded6b7ee5bf4abbeb", "a859aa9d272b1262f0ccc7d1bbb827d7"),
    "nl04-jgz8.0/DOB-4.0.0-R021-CR_test_JGZ-333_hl7.xml": ("f7f2f97499ffd522e2bf785fdd614fcd", "4822bc6b624e0657da33b45650ee3fbd", "2661026134fe63e9ae28c99abd19b89b", "1fe9f1bc9347f0c532a8b47e1e83e2b9"),
    "nl04-jgz8.0/DOB-4.0.0-R021-CR_test_JGZ-335_hl7.xml": ("fe4a4591d5f41f564a61c060da50d970", "5d01b5c13591d5af74d9c2a402dcb687", "df8c66a714477bcfa62217beea96e624", "aef6a7f956958f537ef785fb355f6512"),
    "nl04-jgz8.0/DOB-4.0.0-R023-CR_test_JGZ-165_hl7.xml": ("a0909c2f21fab5e6e25cebcd0fcc4261", "845cf466c840149fdbd08d0d482e366b", "ebf2b463a1bf1a068caf21bb6011344b", "e515ad6f1c11566d2b7a3fd7814f3ba3"),
    "nl04-jgz8.0/DOB-4.0.0-R026-CR_test_JGZ-178_hl7.xml": ("59cd0c92855db91b3934613f543a856b", "4a11655076ae777655e8a1aee7348a33", "682110b1440fbd8be2f43a9085e57093", "e6215c5b63743db13cbc9731f5624400"),
    "nl04-jgz8.0/DOB-4.0.0-R026-CR_test_JGZ-183_hl7.xml": ("3412cb485380ea269103034aba8cff47", "ab5b6bccffbd3005a5cf842201be8ee0", "c008af5430390f87733646253d47dba6", "eb53a840c12dcc4dc45750143bc44ea0"),
    "nl04-jgz8.0/DOB-4.0.0-R026-CR_test_JGZ-339_hl7.xml": ("dafe33378accc9cd7aae859fc9594488", "93061de2fb67f6cb6685e295fbcddb01", "b625aeea32576d389e9e6c9e31c1e0f0", "4455e79d10ff224db8014047aaa8dfdf"),
    "nl04-jgz8.0/DOB-4.0.0-R030-CR_test_JGZ-341_hl7.xml": ("177eed04cd84f295626f1c06258b0484", "856506654eccf5c870330b9ea65010ea", "17c21d283c7aad0232e552c784dfc824", "99896242c2a93e3b8dcefbec850a631b"),
    "nl04-jgz8.0/DOB-4.0.0-R031-CR_test_JGZ-195_hl7.xml": ("0c03911387e5af69363c80066ca99a2b", "1b11b90165d3244f4db82110c4fae3f8", "f62b7df789a3162b894b9697f8ba1cec", "612cbccbb081bea9e36325db9c9db0b0"),
    "nl04-jgz8.0/DOB-4.0.0-R031-CR_test_JGZ-196_hl7.xml": ("b53cda4e9645f293db5d8684dce5c17b", "d7ea4878efa2d8635ec771c59ff994f0", "6b6db28f3938e56532bb2c32f52a7abc", "386c8e2a74b1bc966da509f731dd5ad5"),
    "nl04-jgz8.0/DOB-4.0.0-R039-CR_test_JGZ-164_hl7.xml": ("ef97e10ee9608b3a9fbd8df50f2b620f", "b4bc2a92f32799ce438327c4b2c7ce7a", "d6c09ff589238f5a8c8a6b742cd15408", "39c4a91a5b6e1016afce3acbc2d18f1e"),
    "nl04-jgz8.0/DOB-4.0.0-R039-CR_test_JGZ-345_hl7.xml": ("fcb7338ce422d2cbba7e4ece535be8ac", "17393e5a0f776c4ede532e7013341b78", "a1856840704668aac48c4743a82a350d", "a9917e251a4e312f47b5024a17444912"),
    "nl04-jgz8.0/DOB-4.0.0-R041-CR_test_JGZ-622_hl7.xml": ("e5067fa15624258dd2d513543db1ea9f", "49fdb23e56fec4862b0da39263b40336", "38da93f72ecd2172264a8c7b17397913", "8d60c9396ecdf33466c4c7e5fa797f22"),
    "nl04-jgz8.0/DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml": ("5f0b755339415f2adafa866e81ce2209", "6b7e11cfcb78949a54b730f213684e31", "d7db8dc237f3165725ac30859768abef", "f82b5e25e89dd42a34f1dd70c5448182"),
    "nl04-jgz8.0/DOB-4.0.0-R042-CR_test_JGZ-224_hl7.xml": ("c0a0afe1ed7fece3cb98d01c3cd421d0", "0e6b6b391b584d5060b759c987be011f", "dfcfadbb5ec7d086ebe34145c7b31c18", "b02cbedda3339914ffb9fecab443a4ba"),
    "nl04-jgz8.0/DOB-4.0.0-R042-CR_test_JGZ-259_hl7.xml": ("c3e661f0c45bc71ec39733708147f63c", "3dd4b37685246090518b14da8b961cfc", "91ccd1b0d51f5d26019a9997a02e1837", "1e4cb51e799b5853b5ee5cba46ac7acf"),
    "nl04-jgz8.0/DOB-4.0.0-R042-CR_test_JGZ-353_hl7.xml": ("65018dee049be946c48857998ce94f36", "b04f489e36419d191320bb7839ca5c05", "ec3959dd80d0bd9cc7769d519838e113", "f77227272a58eaa3bf38c6b2b67af059"),
    "nl04-jgz8.0/DOB-4.0.0-R042-CR_test_JGZ-354_hl7.xml": ("0009234fd138db620902f90a8c317bb5", "affac61a00173161186bd8fe17eb190e", "24b54535b245f9ea88e0e9c579ca922b", "325cc95a621e1ee0e4d2dd468a72e4f6"),
    "nl04-jgz8.0/DOB-4.0.0-R047-CR_test_JGZ-563_hl7.xml": ("f259b8f8f61f13ee577409403ae2a640", "8108bb401c2cfb018903482350bc7706", "18be04853b512ccfda27a278a61649da", "4330259817a348172116fdcb1fac1e21"),
    "nl04-jgz8.0/DOB-4.0.0-R054-CR_test_JGZ-250_hl7.xml": ("06bf902f2504aefed8b877c668d7a43a", "35c2bd85f6e0620e885ca00b051e06b9", "b2a3b609765768f080b05dff4149f276", "006c505fbd791a1f6160e390a385e36f"),
    "hl7/DOB-3.0.0-qual-ontvangen-XXX_Braaks-hl7.xml": ("b6cd627e0125cc6ec3b1c9a3d93c1212", "1820d86c0a4caa30166d4e83ab27d465", "386251d7bb8be5a625a092740c8ad249", "b356ac0735c430c63acada0dc73ac341"),
    "hl7/DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml": ("3dbc83c106bab5315b305bbee7eae820", "a6ec6b5f8431783edc8ee6489e3d5baf", "abb297fe7abe97253a29e94c91588980", "e47f96c86d6d980281ed725a50b26d63"),
    "hl7/DOB-3.0.0-qual-versturen-XXX_Kallasingh-hl7.xml": ("41cad833d37ca47eeb9a6f4b85094ad4", "5e6a7eab21900b30a804eb16bc24f7a1", "9a362719c53660d86a04de8b0d93d4f9", "637ca1814366e79353641752188ac8bc"),
    "hl7/DOB-3.0.0-test-hl7-bds327-bds400.xml": ("f69b8c3fcb1563361c22690ea262981b", "45c7e092e39940e0ae3e592ff5e53cc2", "4ee472d9a9139e1d6ca820255ab46227", "956abcd4af565e9d7cc6f6b147d5d0a1"),
    "hl7/DOB-3.0.0-test-hl7-bds327.xml": ("75d1ce9b0d5f5f5f9f1f4158b97eba52", "0e09e768be1d9706254ba797cb813d36", "ff28e8edc819a6682cc00a87fd515cd9", "c850d3b7566b1a73d92daef646c0636a"),
    "hl7/DOB-3.0.0-test-hl7.xml": ("c988e8800729c77b23c685bdeecdf8ce", "1ef670d47dd371e1347f9c28994fb618", "d78965fd9195cc9f23a294d85cb52c82", "bf899263fdac909edac8f1fa23a1fb89"),
}
