package dev.siteward.gateway.admins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.siteward.gateway.GatewayException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The role check of every admin endpoint, allowed and refused, from the data file {@code admins/admin-routes.txt}:
 * each line is one endpoint, checked against all five roles.
 */
class AdminRouteTableTest {

    private static final AdminRouteTable TABLE = AdminRouteTable.standard();

    static Stream<Arguments> endpoints() throws IOException {
        List<Arguments> out = new ArrayList<>();
        try (InputStream in = AdminRouteTableTest.class.getResourceAsStream("/admins/admin-routes.txt")) {
            int n = 0;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                n++;
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                String[] sides = l.split("->");
                String[] call = sides[0].strip().split("\\s+");
                String roles = sides[1].strip();
                Set<AdminRole> allowed = EnumSet.noneOf(AdminRole.class);
                boolean bootstrap = !roles.equals("none");
                if (bootstrap && !roles.equals("none-but-bootstrap")) {
                    for (String r : roles.split("\\s+")) {
                        allowed.add(AdminRole.find(r).orElseThrow(() -> new IllegalArgumentException(
                                "unknown role '" + r + "' in " + l)));
                    }
                }
                if (bootstrap) {
                    allowed.add(AdminRole.BOOTSTRAP);
                }
                for (AdminRole role : AdminRole.values()) {
                    out.add(Arguments.of(call[0], call[1], role, allowed.contains(role), "line " + n));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} as {2}: allowed={3} ({4})")
    @MethodSource("endpoints")
    void everyAdminEndpointAllowsExactlyTheRolesItNeeds(String method, String path, AdminRole role, boolean allowed,
                                                        String where) {
        try {
            TABLE.authorize(Optional.of(role), method, path);
            if (!allowed) {
                fail(method + " " + path + " must be refused for " + role + " (" + where + ")");
            }
        } catch (GatewayException e) {
            if (allowed) {
                fail(method + " " + path + " must be allowed for " + role + " (" + where + "): " + e.getMessage());
            }
            assertEquals("auth.forbidden", e.reason().code());
            assertEquals(403, e.reason().status());
        }
    }

    @Test
    void aRefusalNamesTheRoleNeededAndTheRoleHeld() {
        GatewayException e = assertThrows(GatewayException.class, () -> TABLE.authorize(Optional.of(
                AdminRole.OPERATOR), "POST", "/v1/admin/devices/pump-1/revoke"));
        assertTrue(e.getMessage().contains("requires role security"), e.getMessage());
        assertTrue(e.getMessage().contains("this admin has role operator"), e.getMessage());
    }

    @Test
    void aCertificateWithoutAKnownRoleMayCallNothing() {
        GatewayException e = assertThrows(GatewayException.class, () -> TABLE.authorize(Optional.empty(), "GET",
                "/v1/admin/devices"));
        assertTrue(e.getMessage().contains("no known role"), e.getMessage());
    }

    @Test
    void anUnknownAdminRouteIsRefusedEvenToTheBootstrapAdmin() {
        GatewayException e = assertThrows(GatewayException.class, () -> TABLE.authorize(Optional.of(
                AdminRole.BOOTSTRAP), "GET", "/v1/admin/backdoor"));
        assertTrue(e.getMessage().contains("not an admin route"), e.getMessage());
    }

    @Test
    void theBootstrapRoleCannotBeGivenToAPerson() {
        assertThrows(IllegalArgumentException.class, () -> AdminRole.parseAssignable("bootstrap"));
        assertThrows(IllegalArgumentException.class, () -> AdminRole.parseAssignable("root"));
        assertEquals(AdminRole.PUBLISHER_ADMIN, AdminRole.parseAssignable("publisher-admin"));
    }
}
