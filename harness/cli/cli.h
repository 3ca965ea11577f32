/* Subcommands of the labgate command. */
#pragma once

int lg_cmd_validate(int argc, char **argv);
int lg_cmd_plan(int argc, char **argv);
int lg_cmd_run(int argc, char **argv);
int lg_cmd_triage(int argc, char **argv);
int lg_cmd_domxml(int argc, char **argv);
int lg_cmd_gc(int argc, char **argv);
