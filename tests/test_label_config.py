"""Which Label Studio labeling configs chitieu can serve, and in which names."""

import pytest
from typer.testing import CliRunner

from chitieu.annotate.label_config import DEFAULT_MAPPING, LABEL_CONFIG, LabelConfigError, parse_label_config
from chitieu.cli import app
from chitieu.labels import LABELS


def test_its_own_config_maps_every_label_to_itself():
    assert parse_label_config(LABEL_CONFIG) == DEFAULT_MAPPING
    assert DEFAULT_MAPPING.unmapped == []


def test_renamed_names_map_and_the_control_with_most_of_our_labels_wins():
    config = """<view>
      <labels name="sentiment" toName="body"><label value="Positive"/></labels>
      <Labels name="tags" toName="title,body">
        <Label value="province"/><Label value="Official"/><Label value="Indicator "/><Label value="Chỉ tiêu" alias="target_value"/>
      </Labels>
      <Text name="title" value="$headline"/>
      <text name="body" value="$article"/>
    </view>"""
    mapping = parse_label_config(config)
    assert (mapping.from_name, mapping.to_name, mapping.text_field) == ("tags", "title", "headline")
    assert mapping.labels == {"PROVINCE": "province", "OFFICIAL": "Official", "INDICATOR": "Indicator ", "TARGET_VALUE": "Chỉ tiêu"}


@pytest.mark.parametrize(
    ("config", "hint"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><View/>', "DOCTYPE"),
        ("<View><Text name='t' value='$text'/></View>", "no <Labels> control"),
        ("<View><Labels name='l' toName='nowhere'><Label value='PROVINCE'/></Labels><Text name='t' value='$text'/></View>", "no <Labels> control"),
        ("<View><Labels toName='t'><Label value='PROVINCE'/></Labels><Text name='t' value='$text'/></View>", "no name attribute"),
        ("<View><Labels name='l' toName='t'><Label value='ORG'/></Labels><Text name='t' value='$text'/></View>", "ORG"),
        ("<View><Labels name='l' toName='t'><Label value='PROVINCE'/></Labels><Text name='t' value='$data.text'/></View>", 'value="$text"'),
    ],
)
def test_configs_it_cannot_serve_say_what_to_change(config, hint):
    with pytest.raises(LabelConfigError, match=None) as err:
        parse_label_config(config)
    assert hint in str(err.value)


def test_the_cli_prints_the_config_to_paste_in_label_studio():
    result = CliRunner().invoke(app, ["annotations", "label-config"])
    assert result.exit_code == 0 and result.stdout == LABEL_CONFIG
    assert all(f'<Label value="{label}"/>' in result.stdout for label in LABELS)
