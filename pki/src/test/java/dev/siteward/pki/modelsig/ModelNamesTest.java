package dev.siteward.pki.modelsig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelNamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"vision/people-counter", "a/b", "team1/model.v2", "x_y/z-1"})
    void validNamesAreAccepted(String name) {
        assertTrue(ModelNames.isValid(name));
        assertEquals(name, ModelNames.require(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "vision", "vision/", "/x", "Vision/x", "vision/x/y", "vision/../x", "a/..b",
            "-a/b", "a/.b", "a b/c", "a/b\n"})
    void invalidNamesAreRefused(String name) {
        assertFalse(ModelNames.isValid(name));
        assertThrows(IllegalArgumentException.class, () -> ModelNames.require(name));
    }

    @ParameterizedTest
    @CsvSource({
        "*, vision/x, true",
        "vision/*, vision/x, true",
        "vision/*, visionx/y, false",
        "vision/*, audio/x, false",
        "vision/x, vision/x, true",
        "vision/x, vision/xy, false",
        "vision/x*, vision/xy, false",
        "*/x, vision/x, false",
        "vision/*, vision/../x, false"
    })
    void rulesCoverExactlyTheirNames(String rule, String name, boolean expected) {
        assertEquals(expected, ModelNames.matches(rule, name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "vision", "vision/x*", "**", "vision/**", "*/x"})
    void invalidRulesAreRefused(String rule) {
        assertFalse(ModelNames.isValidRule(rule));
    }

    @org.junit.jupiter.api.Test
    void anyRuleInAListCanCoverAName() {
        assertTrue(ModelNames.anyMatches(List.of("audio/*", "vision/cam"), "vision/cam"));
        assertFalse(ModelNames.anyMatches(List.of(), "vision/cam"));
    }
}
