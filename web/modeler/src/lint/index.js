// The lint configuration of the editor: the recommended bpmnlint rules that fit lianban, and our
// own (./rules.js), resolved statically (bundled; nothing is fetched). Messages are translated by
// the editor's translate module (../i18n/zh.js); ours are written in Chinese.
import startEventRequired from "bpmnlint/rules/start-event-required";
import endEventRequired from "bpmnlint/rules/end-event-required";
import noDisconnected from "bpmnlint/rules/no-disconnected";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split";
import fakeJoin from "bpmnlint/rules/fake-join";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows";
import noGatewayJoinFork from "bpmnlint/rules/no-gateway-join-fork";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway";
import labelRequired from "bpmnlint/rules/label-required";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event";
import lianbanRules from "./rules.js";

const bpmnlintRules = {
  "start-event-required": [startEventRequired, "error"],
  "end-event-required": [endEventRequired, "error"],
  "no-disconnected": [noDisconnected, "warn"],
  "no-duplicate-sequence-flows": [noDuplicateSequenceFlows, "error"],
  "single-blank-start-event": [singleBlankStartEvent, "error"],
  "no-implicit-split": [noImplicitSplit, "warn"],
  "fake-join": [fakeJoin, "warn"],
  "no-gateway-join-fork": [noGatewayJoinFork, "warn"],
  "superfluous-gateway": [superfluousGateway, "warn"],
  "label-required": [labelRequired, "warn"],
};

const cache = {};
const rules = {};
Object.entries(bpmnlintRules).forEach(([name, [factory, level]]) => {
  cache[`rule:bpmnlint/${name}`] = factory;
  rules[`bpmnlint/${name}`] = level;
});
Object.entries(lianbanRules).forEach(([name, factory]) => {
  cache[`rule:bpmnlint-plugin-lianban/${name}`] = factory;
  rules[`lianban/${name}`] = "error";
});

const resolver = {
  resolveRule(pkg, name) {
    const found = cache[`rule:${pkg}/${name}`];
    if (!found) throw new Error(`unknown rule <${pkg}/${name}>`);
    return found;
  },
  resolveConfig(pkg, name) {
    throw new Error(`unknown config <${pkg}/${name}>`);
  },
};

export const lintConfig = { config: { rules }, resolver };
export const ruleNames = Object.keys(rules);
