package lab.sim;

import model.RequestView;

/**
 * One simulated request as a strategy sees it: a user key in the X-User header and a client address
 * derived from the user, so hashing strategies see many clients, as in the real race. Immutable.
 */
record SimRequest(String user, String clientAddress) implements RequestView {
    static SimRequest of(int user) {
        // 127.0.0.2 to 127.0.0.254, as the real race binds its sockets (lab/LabRun.clientAddress)
        return new SimRequest("user-" + user, "127.0.0." + (2 + Math.floorMod(user, 253)));
    }

    @Override public String method() { return "GET"; }
    @Override public String path() { return "/lab"; }
    @Override public String header(String name) { return "X-User".equalsIgnoreCase(name) ? user : null; }
    @Override public String cookie(String name) { return null; }
}
