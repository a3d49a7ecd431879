package dev.siteward.pki.modelsig;

import java.util.Collection;
import java.util.regex.Pattern;

/**
 * Model names and the name rules that say which publisher may sign which models.
 *
 * <p>A model name is {@code team/name}, each part {@code [a-z0-9][a-z0-9._-]*} (at most 64 characters each). A name
 * rule is a model name, {@code team/*} (every model of that team) or {@code *} (every model). The same rules are
 * applied by the gateway when a model is published and by devices when they install one.
 */
public final class ModelNames {

    private static final String PART = "[a-z0-9][a-z0-9._-]{0,63}";
    private static final Pattern NAME = Pattern.compile(PART + "/" + PART);
    private static final Pattern RULE = Pattern.compile("\\*|" + PART + "/(\\*|" + PART + ")");

    private ModelNames() {
    }

    /** Whether {@code name} is a valid model name. */
    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches() && !name.contains("..");
    }

    /** Returns {@code name}, or throws {@link IllegalArgumentException} naming what is wrong with it. */
    public static String require(String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException("model name '" + name + "' is not team/name (each part "
                    + "[a-z0-9][a-z0-9._-]*, at most 64 characters, no '..')");
        }
        return name;
    }

    /** Whether {@code rule} is a valid name rule: a model name, {@code team/*} or {@code *}. */
    public static boolean isValidRule(String rule) {
        return rule != null && RULE.matcher(rule).matches() && !rule.contains("..");
    }

    /** Whether the name rule {@code rule} covers the model {@code name}. Invalid rules cover nothing. */
    public static boolean matches(String rule, String name) {
        if (!isValidRule(rule) || !isValid(name)) {
            return false;
        }
        if (rule.equals("*")) {
            return true;
        }
        if (rule.endsWith("/*")) {
            return name.startsWith(rule.substring(0, rule.length() - 1));
        }
        return rule.equals(name);
    }

    /** Whether any of {@code rules} covers {@code name}. */
    public static boolean anyMatches(Collection<String> rules, String name) {
        for (String rule : rules) {
            if (matches(rule, name)) {
                return true;
            }
        }
        return false;
    }
}
