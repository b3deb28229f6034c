package config;

/**
 * One thing wrong with a configuration, and where: "lb.yaml:12:5: unknown key 'helth-path'; did you mean
 * 'health-path'?" (line and column count from 1, as editors and nginx -t show them). Immutable.
 *
 * @param where "FILE:LINE:COLUMN", or the flag's name when the command line said it
 */
public record ConfigProblem(String where, String message) {
    @Override
    public String toString() {
        return where + ": " + message;
    }
}
