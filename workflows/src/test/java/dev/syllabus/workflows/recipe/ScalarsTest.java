package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.StringReader;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** YAML 1.1 scalars as a recipe reads them. */
class ScalarsTest {

  private static ScalarNode scalar(String yaml) {
    return (ScalarNode) SafeYaml.yaml().compose(new StringReader(yaml));
  }

  @Test
  void aNumberIsAlsoText() {
    assertEquals("500", Scalars.text(scalar("500")));
  }

  @Test
  void nullAndTildeAreNotText() {
    assertNull(Scalars.text(scalar("null")));
    assertNull(Scalars.text(scalar("~")));
  }

  @Test
  void yesAndOffAreBooleans() {
    assertEquals(true, Scalars.bool(scalar("yes")));
    assertEquals(false, Scalars.bool(scalar("off")));
  }

  @Test
  void aQuotedTrueIsTextNotABoolean() {
    assertNull(Scalars.bool(scalar("'true'")));
  }

  @Test
  void integersMayBeHexBinaryOctalOrGrouped() {
    assertEquals(31, Scalars.value(scalar("0x1F")));
    assertEquals(5, Scalars.value(scalar("0b101")));
    assertEquals(8, Scalars.value(scalar("010")));
    assertEquals(1000, Scalars.value(scalar("1_000")));
  }

  @Test
  void anIntegerTooBigForAnIntIsALong() {
    assertEquals(3_000_000_000L, Scalars.value(scalar("3000000000")));
  }

  @Test
  void aWholeNumberMayBeQuoted() {
    assertEquals(42L, Scalars.wholeNumber(scalar("'42'")));
  }

  @Test
  void aFractionIsNotAWholeNumber() {
    assertNull(Scalars.wholeNumber(scalar("0.5")));
  }

  @Test
  void anExponentWithoutADotIsStillANumber() {
    assertEquals(1e-5, Scalars.number(scalar("1e-5")));
  }

  @Test
  void textIsNotANumber() {
    assertNull(Scalars.number(scalar("fast")));
  }
}
