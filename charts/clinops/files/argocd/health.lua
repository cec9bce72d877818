-- Argo CD resource health check for clinops.dev/ClinicalModel. Install it in argocd-cm as
--   resource.customizations.health.clinops.dev_ClinicalModel: <this file>
-- Argo CD runs it with the object in `obj` and takes the table it returns.
--   Progressing  the operator has not observed the latest spec yet, or no replica is ready yet
--   Healthy      every replica serves (an escalation level 1 alert is named in the message)
--   Suspended    paused: escalation level 2, or spec.serving.replicas is 0
--   Degraded     shut down after a patient-safety event (level 3), failed, rejected by acceptance with nothing
--                accepted to serve, or fewer replicas ready than declared
--   (Accepting, a candidate version on its acceptance Job with nothing accepted to serve yet, and
--   AwaitingApproval, its go/no-go sign-off incomplete, are Progressing;
--   a rejected update while the accepted version serves is Healthy, the Accepted condition naming it;
--   a rollout underway — shadow, canary, promoting — is Progressing while the version before serves;
--   a rolled-back candidate leaves the model Healthy, the RolledOut condition naming why)
local hs = { status = "Progressing", message = "waiting for the clinops operator to report status" }
local s = obj.status
if s == nil then
  return hs
end

local function condition(kind)
  if s.conditions == nil then return nil end
  for _, c in ipairs(s.conditions) do
    if c.type == kind then return c end
  end
  return nil
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and s.observedGeneration ~= nil and s.observedGeneration < generation then
  hs.message = "the operator has not observed generation " .. generation .. " yet"
  return hs
end

local ready = condition("Ready")
local readyMessage = (ready and ready.message) or ""
local escalation = s.escalation or {}
local level = escalation.level or 0
local reason = escalation.reason or ""

if s.phase == "ShutDown" then
  hs.status = "Degraded"
  hs.message = "shut down at escalation level " .. level .. ": " .. reason
  if escalation.incident ~= nil and escalation.incident.id ~= nil then
    hs.message = hs.message .. " (incident " .. escalation.incident.id .. ")"
  end
  return hs
end
if s.phase == "Paused" then
  hs.status = "Suspended"
  if level >= 1 then
    hs.message = "paused at escalation level " .. level .. ": " .. reason .. "; a reviewer's acknowledgement resumes it"
  else
    hs.message = readyMessage
  end
  return hs
end
if s.phase == "Failed" or s.phase == "Degraded" or s.phase == "Rejected" then
  hs.status = "Degraded"
  hs.message = readyMessage
  return hs
end
local rollout = s.rollout or {}
if s.phase == "Serving" and (rollout.step == "Shadow" or rollout.step == "Canary" or rollout.step == "Promoting") then
  hs.message = "version " .. (rollout.version or "?") .. " in " .. string.lower(rollout.step) .. ": " .. (rollout.message or "")
  return hs
end
if s.phase == "Serving" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = readyMessage
  if level >= 1 then
    hs.message = readyMessage .. "; escalation level " .. level .. ": " .. reason
    if escalation.reviewDueBy ~= nil then
      hs.message = hs.message .. "; review due by " .. escalation.reviewDueBy
    end
  end
  local accepted = condition("Accepted")
  if accepted ~= nil and accepted.reason ~= "Passed" and accepted.reason ~= "NoAcceptance" then
    hs.message = hs.message .. "; " .. (accepted.message or "")
  end
  local rolled = condition("RolledOut")
  if rolled ~= nil and rolled.reason == "RolledBack" then
    hs.message = hs.message .. "; " .. (rolled.message or "")
  end
  return hs
end
hs.message = readyMessage ~= "" and readyMessage or hs.message
return hs
