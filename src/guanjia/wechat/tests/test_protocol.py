"""The protocol functions against the published vectors of WeChat's own message-encryption samples."""

import pytest

from guanjia.wechat import protocol

# From the WeChat message-encryption SDK samples (WXBizMsgCrypt).
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXp"
    "bUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjl"
    "pKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD"
    "1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)


def test_msg_signature_matches_the_sample():
    assert protocol.signature("spamtest", "1409735669", "1320562132", SAMPLE_ENCRYPT) == (
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    )


def test_decrypt_matches_the_sample():
    xml = protocol.decrypt(SAMPLE_KEY, "wx2c2769f8efd9abc2", SAMPLE_ENCRYPT)
    message = protocol.parse_message(protocol.parse_xml(xml))
    assert message.openid == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert message.to_user == "gh_10f6c3c3ac5a"
    assert message.content == "abcdteT"
    assert message.msg_id == 6054768590064713728


def test_decrypt_refuses_a_message_for_another_app():
    with pytest.raises(protocol.ProtocolError):
        protocol.decrypt(SAMPLE_KEY, "wxsomeoneelse", SAMPLE_ENCRYPT)


def test_encrypt_matches_the_sample_with_its_fixed_random_prefix():
    assert protocol.encrypt(SAMPLE_KEY, "wxb11529c136998cb6", "我是中文abcd123", random=b"aaaabbbbccccdddd") == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )


def test_check_signature():
    sig = protocol.signature("token", "1409735669", "nonce")
    assert protocol.check_signature("token", sig, "1409735669", "nonce")
    assert protocol.check_signature("token", sig.upper(), "1409735669", "nonce")
    assert not protocol.check_signature("token", sig, "1409735670", "nonce")
    assert not protocol.check_signature("", protocol.signature("", "1", "2"), "1", "2")


def test_replies_escape_cdata():
    message = protocol.Message(to_user="gh_1", openid="o1", create_time=1, msg_type="text")
    xml = protocol.text_reply(message, "a]]>b", now=5)
    assert protocol.parse_xml(xml.encode())["Content"] == "a]]>b"
