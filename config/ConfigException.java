package config;

import java.util.List;

/** A configuration refused, with every problem found in it, one line each. Immutable. */
public final class ConfigException extends RuntimeException {
    private final List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + " in the configuration");
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    /** One line per problem, as --check-config prints them. */
    public String lines() {
        StringBuilder text = new StringBuilder();
        problems.forEach(problem -> text.append(problem).append('\n'));
        return text.toString();
    }
}
