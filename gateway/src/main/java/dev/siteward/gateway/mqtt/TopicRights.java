package dev.siteward.gateway.mqtt;

import dev.siteward.pki.SpiffeId;
import java.util.List;

/**
 * Which topics an MQTT client may use, from its certificate identity alone: a device publishes and subscribes only
 * under {@code siteward/sensors/<its-id>/}; the gateway's service identity subscribes to every sensor's readings
 * through the shared subscription {@code $share/siteward/siteward/sensors/+/readings} and publishes under every
 * sensor's prefix (results, errors). Everything else is denied. The embedded broker enforces these grants, and the
 * Mosquitto ACL file is generated from them, so both brokers apply the same rights.
 */
public final class TopicRights {

    /** Every sensor topic lies under this prefix. */
    public static final String SENSORS = "siteward/sensors/";
    /** The shared-subscription group of the gateway's inference clients. */
    public static final String SHARE_GROUP = "siteward";
    /** The topic filter the gateway's inference clients subscribe to (inside {@code $share/siteward/}). */
    public static final String READINGS_FILTER = SENSORS + "+/readings";

    /** What a grant allows. */
    public enum Activity { PUBLISH, SUBSCRIBE, ALL }

    /**
     * One allowed topic filter.
     *
     * @param topicFilter an MQTT topic filter; the client's topic or filter must lie entirely within it
     * @param activity    publish, subscribe or both
     * @param sharedGroup for subscriptions: the shared-subscription group that is required, or null for a plain one
     */
    public record Grant(String topicFilter, Activity activity, String sharedGroup) {
    }

    private TopicRights() {
    }

    /** The prefix a device owns: {@code siteward/sensors/<id>/}. */
    public static String devicePrefix(String deviceId) {
        return SENSORS + deviceId + "/";
    }

    /** The grants of a client with this identity; none for kinds that have no MQTT rights (admins, publishers). */
    public static List<Grant> of(SpiffeId id, boolean gatewayService) {
        if (id.kind() == SpiffeId.Kind.DEVICE) {
            return List.of(new Grant(devicePrefix(id.name()) + "#", Activity.ALL, null));
        }
        if (id.kind() == SpiffeId.Kind.SERVICE && gatewayService) {
            return List.of(new Grant(READINGS_FILTER, Activity.SUBSCRIBE, SHARE_GROUP),
                    new Grant(SENSORS + "+/#", Activity.PUBLISH, null));
        }
        return List.of();
    }

    /** Whether the grants allow publishing to this topic name (no wildcards). */
    public static boolean mayPublish(List<Grant> grants, String topic) {
        if (!validTopicName(topic)) {
            return false;
        }
        for (Grant g : grants) {
            if (g.activity() != Activity.SUBSCRIBE && covers(g.topicFilter(), topic)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the grants allow this subscription; {@code $share/<group>/<filter>} needs a grant for that group. */
    public static boolean maySubscribe(List<Grant> grants, String subscription) {
        String group = null;
        String filter = subscription;
        if (subscription.startsWith("$share/")) {
            int slash = subscription.indexOf('/', "$share/".length());
            if (slash < 0) {
                return false;
            }
            group = subscription.substring("$share/".length(), slash);
            filter = subscription.substring(slash + 1);
        }
        if (!validTopicFilter(filter)) {
            return false;
        }
        for (Grant g : grants) {
            if (g.activity() == Activity.PUBLISH) {
                continue;
            }
            boolean groupOk = g.sharedGroup() == null ? group == null : g.sharedGroup().equals(group);
            if (groupOk && covers(g.topicFilter(), filter)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether every topic that {@code filter} matches also matches {@code grant} (MQTT 5 section 4.7 wildcard rules;
     * a trailing {@code #} also matches its parent level).
     */
    static boolean covers(String grant, String filter) {
        String[] g = grant.split("/", -1);
        String[] f = filter.split("/", -1);
        for (int i = 0; i < g.length; i++) {
            if (g[i].equals("#")) {
                return true;
            }
            if (i >= f.length) {
                return false;
            }
            if (f[i].equals("#")) {
                return false;
            }
            if (f[i].equals("+")) {
                if (!g[i].equals("+")) {
                    return false;
                }
            } else if (!g[i].equals("+") && !g[i].equals(f[i])) {
                return false;
            }
        }
        return f.length == g.length;
    }

    static boolean validTopicName(String topic) {
        return topic != null && !topic.isEmpty() && topic.indexOf('+') < 0 && topic.indexOf('#') < 0
                && topic.indexOf('\0') < 0;
    }

    static boolean validTopicFilter(String filter) {
        if (filter == null || filter.isEmpty() || filter.indexOf('\0') >= 0) {
            return false;
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String l = levels[i];
            if (l.contains("#") && (!l.equals("#") || i != levels.length - 1)) {
                return false;
            }
            if (l.contains("+") && !l.equals("+")) {
                return false;
            }
        }
        return true;
    }
}
